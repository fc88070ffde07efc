"""``python -m s2raster.cli``: the ``s2raster`` command."""

from s2raster.cli import main

main()
