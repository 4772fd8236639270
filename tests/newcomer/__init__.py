"""The newcomer path: a fresh clone, the README's commands, for root and for an ordinary user."""
