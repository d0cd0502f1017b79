"""Evidence that outlives a CI cache: a durable store for an evidence directory.

- `git`: a dedicated branch of the job's repository, one commit per saved run (`GitBranch`);
- `merge`: the store's copy and the job's copy of one evidence directory made one, verified
  through `cutover.ledger.Store`; a ledger is never rewritten (a copy that parted is kept aside).

`cutover evidence restore` and `cutover evidence save` (cli/durable.py) use it; the CI templates
call them around every run, under one concurrency group. A CI cache may only speed things up.
"""

from __future__ import annotations

from cutover.durable.git import DEFAULT_BRANCH, GitBranch, Outcome, StoreUnavailable
from cutover.durable.merge import Merged, merge_evidence

__all__ = ["DEFAULT_BRANCH", "GitBranch", "Merged", "Outcome", "StoreUnavailable", "merge_evidence"]
