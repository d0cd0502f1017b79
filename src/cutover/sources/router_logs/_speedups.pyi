from typing_extensions import Buffer

NEEDLES: tuple[bytes, ...]
PLAIN: int
JUDGED: int
ROUTING: int

def survey(buf: Buffer, end: int, ends: Buffer, flags: Buffer) -> int: ...  # see _speedups.c
def fit(
    data: Buffer,
    starts: Buffer,
    length: int,
    low: Buffer,
    width: Buffer,
    time: int,
    ident: int,
    ident_length: int,
    start: int,
    m1: int,
    m2: int,
    fits: Buffer,
    instants: Buffer,
    keys: Buffer,
) -> int: ...
