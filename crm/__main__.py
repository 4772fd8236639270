"""``python -m crm`` is the ``crm`` command."""

from crm.cli import main

main()
