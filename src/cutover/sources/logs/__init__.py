"""What the router and RLM log readers share; each reader keeps its own line forms.

* ``seek``: which byte range of a log, written in time order nearly, a window needs, and the
  one reading flow (head, range, tail) both readers follow (``read_window``);
* ``blocks``: reading the head line by line and a byte range in blocks of whole lines;
* ``tally``: the span of instants a reader has seen (``Span``), the base of each reader's tally;
* ``continuity``: what a reader saw of a window for coverage (runs of instants, lines per slot
  with the unreadable ones), judged by ``criteria.coverage``;
* ``identity``: the identities of the records counted, so that a duplicate counts once.

Instants are epoch microseconds (plain ints), read by ``cutover.timeutil`` (``instant_us``,
``leading_stamp_us``, ``epoch_us``, ``from_epoch_us``).
"""
