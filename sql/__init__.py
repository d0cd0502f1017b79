"""sql/ is the package `cutover.data.sql` of the wheel (setup.py): the queries ship with it."""
