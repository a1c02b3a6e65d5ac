"""Keys and tokens: ground floor, shared by tenants and galleries; no project imports."""
