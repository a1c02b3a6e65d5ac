"""Imported by the process pool's fork server as it starts (media.pool.make_process_pool).

The fork server is the parent of every pool worker and outlives any one of them; it
asks to be killed when the service dies, so a service killed with SIGKILL takes its
fork server, and through it (init_worker) its workers, along. Pillow is imported here
once, so each forked worker starts with it loaded.
"""

from media.pool import die_with_parent

die_with_parent()

import PIL.Image  # noqa: E402,F401  (preloaded for the workers)
