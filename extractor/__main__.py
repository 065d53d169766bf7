"""`python -m extractor` runs the vax command."""

from .cli import main

main()
