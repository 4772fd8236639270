"""The CRM service's tests."""
