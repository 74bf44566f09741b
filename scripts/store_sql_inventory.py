#!/usr/bin/env python3
"""Counts the SQL statements the SQLite and PostgreSQL stores spell out, and how many are
the same text in both (placeholders ?N and $N compared as equal, whitespace collapsed).

A statement is a run of adjacent C++ string literals (or a constexpr char[] constant) that
starts with SELECT/INSERT/UPDATE/DELETE/WITH, or the tail appended to a shared column list
(" FROM ...", "WHERE ..."). Shared text in src/store/sql/ is counted apart: a statement
written there once is used by both dialects. Usage: scripts/store_sql_inventory.py [-v]
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "src" / "store"
LITERAL_RUN = re.compile(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+')
STARTS = re.compile(r'^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b|^\s*(FROM|WHERE)\b', re.I)


def statements(folder):
  found = []
  for path in sorted((ROOT / folder).glob("*.[ch]*")):
    if path.name.endswith("_test.cc"):
      continue
    text = path.read_text()
    text = re.sub(r'//[^\n]*', '', text)
    for m in LITERAL_RUN.finditer(text):
      parts = re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0))
      sql = "".join(parts)
      if STARTS.match(sql) and len(sql) > 12 and "returned no row" not in sql:
        norm = re.sub(r'\?(\d+)', r'$\1', " ".join(sql.split()))
        if norm not in (s for _, s in found):  # the same text twice in a dialect counts once
          found.append((path.name, norm))
  return found


def main():
  verbose = "-v" in sys.argv
  lite, pg = statements("sqlite"), statements("postgres")
  pg_set = {s for _, s in pg}
  same = [(f, s) for f, s in lite if s in pg_set]
  shared = statements("sql") if (ROOT / "sql").exists() else []
  print(f"sqlite statements: {len(lite)}")
  print(f"postgres statements: {len(pg)}")
  print(f"sqlite statements also word for word in postgres: {len(same)}")
  print(f"shared statements (src/store/sql/): {len(shared)}")
  if verbose:
    for f, s in same:
      print(f"  same  {f}: {s[:110]}")
  # A row reader is a copy when both dialects spell out its column-by-column mapping; one
  # that only adapts the shared mapping (return sql::ReadX(...)) is not.
  spelled = {}
  for folder in ("sqlite", "postgres"):
    for path in sorted((ROOT / folder).glob("*.[ch]*")):
      for m in re.finditer(r'^(?:inline\s+)?[A-Z]\w*\s+(Read[A-Z]\w*)\(const (?:Statement|PgResult)[^{]*\{(.*?)^}',
                           path.read_text(), re.M | re.S):
        if "return sql::" not in m.group(2):
          spelled.setdefault(m.group(1), set()).add(folder)
      for m in re.finditer(r'^(?:inline\s+)?[A-Z]\w*\s+(Read[A-Z]\w*)\(const (?:Statement|PgResult)[^{]*\{([^\n]*)\}$',
                           path.read_text(), re.M):
        if "return sql::" not in m.group(2):
          spelled.setdefault(m.group(1), set()).add(folder)
  copies = sorted(n for n, where in spelled.items() if len(where) == 2)
  print(f"row readers spelled out in both dialects: {len(copies)} {copies}")
  once = []
  if (ROOT / "sql").exists():
    for path in sorted((ROOT / "sql").glob("*.cc")):
      once += re.findall(r'^[A-Z]\w*\s+(Read[A-Z]\w*)\(const RowReader', path.read_text(), re.M)
  print(f"row readers written once for both (src/store/sql/): {len(once)} {sorted(once)}")


main()
