"""Processing: the process, regenerate and transcode jobs, the derivative pool and the viewers."""
