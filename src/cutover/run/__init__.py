"""A gate run under pytest, apart from the plugin's declarations (`cutover.pytest_plugin`):

- `markers`: the gate markers, the gate a criterion runs under, reading a `-m` expression;
- `gate`: what a gate test uses (`Gate`, `gate_table`);
- `state`: the run's typed state and its settings, resolved once;
- `scope`: how much of its selection a run holds and decides, and what narrowed it;
- `recorder`: results from test reports, the checkpoint record, the exit status and the
  verdict, decided after the evidence is written.
"""
