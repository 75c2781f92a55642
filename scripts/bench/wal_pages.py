"""Which tables and indexes a SQLite database's recent commits wrote.

Usage: wal_pages.py DB_FILE
Reads DB_FILE-wal (the frames since the WAL last restarted: the gateway's
checkpointer copies frames into the database but keeps the file), groups the
valid frames into commits, and names each frame's page by its table or index
through SQLite's `dbstat` table, on a private copy of the database. Prints
one JSON object: commits seen, frames (4 KiB pages on the gateway) per
commit, and for each table or index its frames per commit and share.

A page is attributed to the object that owns it now; a page freed and reused
in between (rare under an insert-only load) counts for its new owner.
"""
import collections
import json
import os
import shutil
import sqlite3
import struct
import sys
import tempfile

WAL_HEADER = 32
FRAME_HEADER = 24


def frames(wal_path):
    """Yields (page number, commit size) of each valid frame, in order."""
    with open(wal_path, "rb") as f:
        header = f.read(WAL_HEADER)
        if len(header) < WAL_HEADER:
            return
        magic, _version, page_size, _seq, salt1, salt2 = struct.unpack(">IIIIII", header[:24])
        if magic not in (0x377F0682, 0x377F0683):
            raise SystemExit(f"{wal_path}: not a WAL file")
        while True:
            frame = f.read(FRAME_HEADER)
            if len(frame) < FRAME_HEADER:
                return
            page, commit_size, s1, s2 = struct.unpack(">IIII", frame[:16])
            if (s1, s2) != (salt1, salt2):
                return  # a frame of an earlier WAL cycle: the valid log ends here
            if len(f.read(page_size)) < page_size:
                return
            yield page, commit_size


def owners(db_copy):
    connection = sqlite3.connect(db_copy)
    try:
        return dict(connection.execute("SELECT pageno, name FROM dbstat"))
    finally:
        connection.close()


def main():
    db = sys.argv[1]
    wal = db + "-wal"
    with tempfile.TemporaryDirectory() as scratch:
        # Copy the log first: whatever the database file gains afterwards is
        # also in the copied log, so the pair opens consistently.
        shutil.copyfile(wal, os.path.join(scratch, "db-wal"))
        shutil.copyfile(db, os.path.join(scratch, "db"))
        log = list(frames(os.path.join(scratch, "db-wal")))
        names = owners(os.path.join(scratch, "db"))
    commits, current = [], []
    for page, commit_size in log:
        current.append(page)
        if commit_size:
            commits.append(current)
            current = []
    per_object = collections.Counter()
    for commit in commits:
        for page in commit:
            per_object[names.get(page, "(free or header)")] += 1
    total = sum(len(c) for c in commits)
    n = len(commits)
    print(json.dumps({
        "commits": n,
        "frames_per_commit": round(total / n, 2) if n else None,
        "objects": [
            {"name": name, "frames_per_commit": round(count / n, 2), "share": round(count / total, 4)}
            for name, count in per_object.most_common()
        ],
    }, indent=1))


if __name__ == "__main__":
    main()
