"""Infrastructure shared by every domain: database base and types, vocabularies, permissions,
the request commit point, after-commit task dispatch, errors and CLI registration.
No domain rules live here."""
