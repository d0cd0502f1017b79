"""The project's data files, as packages: `cutover.data.sql` (the queries, from sql/) and
`cutover.data.scenarios` (the seeded scenarios, from fixtures/scenarios/). setup.py maps both
onto those top-level folders, so there is one copy; `cutover.paths` finds them."""
