"""The volume service's business rules and transactions; it never sees HTTP, microversions or policy."""
