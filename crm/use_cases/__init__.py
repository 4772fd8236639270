"""The use cases of each part of the CRM, as dependency-injector containers that ``crm.container.Application`` joins."""
