"""A partys own access: participants personal codes, issued and revoked one by one."""
