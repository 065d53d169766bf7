"""`python -m extractor` runs the vax command."""

from extractor.cli import main

main()
