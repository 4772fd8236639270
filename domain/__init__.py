"""The CRM's own concepts and rules: users, customers, sign-in sessions. Standard library only."""
