from __future__ import annotations

from cutover.cli import main

raise SystemExit(main())
