"""Who may do what: roles and permissions, the signed tokens registration issues and every
service verifies locally, and the one FastAPI dependency that enforces them (`require`).

- `permissions.py`: `Permission` (`resource:action`), `Role`, what each role may do (`ROLES`);
- `principal.py`: `Principal`, who is calling, with the permissions their token grants;
- `tokens.py`: `TokenSigner` (registration only) and `TokenVerifier` (every service): JWT, EdDSA
  (Ed25519) with a key id, several public keys side by side during a rotation;
- `dependencies.py`: `require(permission)`, `current_principal()`, `permission_of(route)`;
- `revocations.py`: revoked token ids, consumed from `access.revoked` into each service's
  `revoked_tokens` and refreshed in memory every few seconds (`install_revocations`).
"""
