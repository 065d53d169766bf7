"""`python -m extractor` runs the vax command."""

from extractor.cli.main import main

main()
