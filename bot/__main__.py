"""`python -m bot` runs the parley command line."""

from bot.cli import main

main()
