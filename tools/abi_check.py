#!/usr/bin/env python3
"""Checks that libmx keeps its published C ABI.

    abi_check.py LIBMX.so abi/symbols.txt include/mx/c_api.h            check (ctest: abi_symbols)
    abi_check.py LIBMX.so abi/symbols.txt include/mx/c_api.h --update   append new entries

abi/symbols.txt holds one line per published entry, in the order they were published:

    func <name> <normalised signature>     a function (must stay exported with this signature)
    type <name> <normalised definition>    a function-pointer typedef used by the ABI
    const <name> <value>                   an enum constant (status codes, dtype and device flags)

plus a `# abi_version N` line: the MX_ABI_VERSION the list was last written under.

Companion headers found beside c_api.h (COMPANION_HEADERS: c_predict_api.h, MXNet's prediction API
with MXNet's own function names) are part of the ABI too: their MX_API functions and function-pointer
typedefs are checked and listed like c_api.h's, and the library may export their names.

The check fails when
  - a listed entry is no longer declared in c_api.h, or its signature / value changed;
  - a listed function (or any function c_api.h declares) is not exported by the library;
  - the library exports anything that is not an mx_ function declared in c_api.h (C++ internals
    must stay hidden);
  - c_api.h declares entries the list does not have yet (run --update and commit the list);
  - MX_ABI_VERSION went down.

--update appends new entries. It refuses to drop or change a published entry unless
MX_ABI_VERSION in c_api.h is greater than the version the list was written under.
Normalised signatures ignore parameter names and spacing, so renaming a parameter is not a change.
Needs only the Python standard library (the ELF dynamic symbol table is read directly).
"""
import argparse
import re
import struct
import sys

# Headers beside c_api.h whose MX_API declarations belong to the published ABI.
COMPANION_HEADERS = ("c_predict_api.h",)

# Symbols the toolchain's start files put in every shared object, not part of our ABI.
TOOLCHAIN_SYMBOLS = {"_init", "_fini", "_edata", "_end", "__bss_start"}

C_KEYWORDS = {
    "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool",
    "const", "volatile", "restrict", "struct", "enum", "union",
}


# ---------------------------------------------------------------------------- ELF reading
def exported_symbols(path):
    """Names of the symbols a shared library exports: defined, global or weak, default or
    protected visibility, from its dynamic symbol table."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise SystemExit(f"abi_check: {path} is not an ELF shared library")
    is64 = data[4] == 2
    endian = "<" if data[5] == 1 else ">"
    if is64:
        e_shoff, = struct.unpack_from(endian + "Q", data, 0x28)
        e_shentsize, e_shnum = struct.unpack_from(endian + "HH", data, 0x3A)
        sh_fmt, sym_fmt = endian + "IIQQQQIIQQ", endian + "IBBHQQ"
    else:
        e_shoff, = struct.unpack_from(endian + "I", data, 0x20)
        e_shentsize, e_shnum = struct.unpack_from(endian + "HH", data, 0x2E)
        sh_fmt, sym_fmt = endian + "IIIIIIIIII", endian + "IIIBBH"
    sections = []
    for i in range(e_shnum):
        f = struct.unpack_from(sh_fmt, data, e_shoff + i * e_shentsize)
        # name, type, flags, addr, offset, size, link, info, addralign, entsize
        sections.append(f)
    names = set()
    for sh in sections:
        if sh[1] != 11:  # SHT_DYNSYM
            continue
        offset, size, link, entsize = sh[4], sh[5], sh[6], sh[9]
        strtab = sections[link]
        str_off = strtab[4]
        for k in range(size // entsize):
            rec = struct.unpack_from(sym_fmt, data, offset + k * entsize)
            if is64:
                st_name, st_info, st_other, st_shndx = rec[0], rec[1], rec[2], rec[3]
            else:
                st_name, st_info, st_other, st_shndx = rec[0], rec[3], rec[4], rec[5]
            bind, visibility = st_info >> 4, st_other & 3
            if st_shndx == 0 or bind not in (1, 2, 10) or visibility not in (0, 3):
                continue  # undefined, local, or hidden/internal
            end = data.index(b"\0", str_off + st_name)
            name = data[str_off + st_name:end].decode("utf-8", "replace")
            if name:
                names.add(name)
    return names


# ---------------------------------------------------------------------------- header parsing
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|[*(),\[\]]")


def _is_word(tok):
    return tok[0].isalnum() or tok[0] == "_"


def render(tokens):
    """Joins tokens canonically: 'const char* const*', 'int(int, void*)'."""
    out = ""
    prev = None
    for t in tokens:
        if prev is not None and ((_is_word(prev) and _is_word(t)) or (prev == "*" and _is_word(t)) or prev == ","):
            out += " "
        out += t
        prev = t
    return out


def _split_params(tokens):
    params, depth, cur = [], 0, []
    for t in tokens:
        if t == "," and depth == 0:
            params.append(cur)
            cur = []
            continue
        depth += t == "("
        depth -= t == ")"
        cur.append(t)
    if cur:
        params.append(cur)
    return params


def _param_type(tokens):
    """A parameter's type without its name."""
    if "(" in tokens:  # a function pointer: ret (*name)(args)
        i = tokens.index("(")
        if i + 2 < len(tokens) and tokens[i + 1] == "*" and _is_word(tokens[i + 2]) and tokens[i + 3] == ")":
            tokens = tokens[:i + 2] + tokens[i + 3:]
        return tokens
    while tokens and tokens[-1] == "]":  # name[N] -> pointer
        tokens = tokens[:tokens.index("[")] + ["*"]
    words = [t for t in tokens if _is_word(t)]
    if len(tokens) > 1 and _is_word(tokens[-1]) and tokens[-1] not in C_KEYWORDS and len(words) > 1:
        tokens = tokens[:-1]
    return tokens


def _signature(ret_tokens, param_tokens):
    params = [_param_type(p) for p in _split_params(param_tokens)]
    if not params or params == [["void"]]:
        params = [["void"]]
    return render(ret_tokens) + "(" + ", ".join(render(p) for p in params) + ")"


def parse_header(path, need_version=True):
    """Entries a header declares: {name: (kind, normalised text)} in declaration order, and
    MX_ABI_VERSION (None when need_version is False and the header has none)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    version = re.search(r"#\s*define\s+MX_ABI_VERSION\s+(\d+)", text)
    if not version and need_version:
        raise SystemExit(f"abi_check: no MX_ABI_VERSION in {path}")
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)  # preprocessor lines
    entries = {}

    # enum constants, with C's implicit numbering
    for body in re.findall(r"\benum\b[^{;]*\{(.*?)\}", text, flags=re.S):
        nxt = 0
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            m = re.match(r"([A-Za-z_]\w*)\s*(?:=\s*(.+))?$", item, flags=re.S)
            if not m:
                continue
            name, expr = m.group(1), m.group(2)
            if expr is not None:
                try:
                    nxt = int(expr.strip().rstrip("uUlL"), 0)
                except ValueError:
                    nxt = expr.strip()
            entries[name] = ("const", str(nxt))
            if isinstance(nxt, int):
                nxt += 1

    for stmt in text.split(";"):
        toks = TOKEN.findall(stmt)
        if not toks:
            continue
        if toks[0] == "typedef" and "(" in toks and toks[toks.index("(") + 1:toks.index("(") + 2] == ["*"]:
            i = toks.index("(")
            name = toks[i + 2]
            close = toks.index(")", i)
            rest = toks[close + 1:]
            if rest and rest[0] == "(" and rest[-1] == ")":
                sig = _signature(toks[1:i], rest[1:-1])
                entries[name] = ("type", sig.replace("(", "(*)(", 1))
            continue
        if "MX_API" not in toks:
            continue
        toks = toks[toks.index("MX_API") + 1:]
        if "(" not in toks or toks[-1] != ")":
            continue
        i = toks.index("(")
        name = toks[i - 1]
        entries[name] = ("func", _signature(toks[:i - 1], toks[i + 1:-1]))
    return entries, (int(version.group(1)) if version else None)


def parse_headers(path):
    """c_api.h's entries followed by those of its companion headers, and MX_ABI_VERSION."""
    import os
    entries, version = parse_header(path)
    for name in COMPANION_HEADERS:
        companion = os.path.join(os.path.dirname(os.path.abspath(path)), name)
        if not os.path.isfile(companion):
            continue
        extra, _ = parse_header(companion, need_version=False)
        for n, v in extra.items():
            if n in entries and entries[n] != v:
                raise SystemExit(f"abi_check: {name} declares '{n}' differently from {os.path.basename(path)}")
            entries.setdefault(n, v)
    return entries, version


# ---------------------------------------------------------------------------- symbols.txt
HEADER = """\
# The published MX C ABI: one line per entry, oldest first (func / type / const, name, normalised
# signature or value). Append-only: tools/abi_check.py fails the build when an entry disappears or
# changes. Regenerate with `python3 tools/abi_check.py <libmx.so> abi/symbols.txt include/mx/c_api.h
# --update`; dropping or changing an entry also needs MX_ABI_VERSION raised in c_api.h.
"""


def read_list(path):
    entries, version = {}, 0
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return entries, None
    for n, line in enumerate(lines, 1):
        m = re.match(r"#\s*abi_version\s+(\d+)", line)
        if m:
            version = int(m.group(1))
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) != 3 or parts[0] not in ("func", "type", "const"):
            raise SystemExit(f"abi_check: {path}:{n}: cannot read line: {line!r}")
        entries[parts[1]] = (parts[0], parts[2])
    return entries, version


def write_list(path, entries, version):
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER)
        f.write(f"# abi_version {version}\n")
        for name, (kind, sig) in entries.items():
            f.write(f"{kind} {name} {sig}\n")


# ---------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("library")
    ap.add_argument("symbols")
    ap.add_argument("header")
    ap.add_argument("--update", action="store_true", help="append new entries to the list")
    args = ap.parse_args(argv)

    declared, version = parse_headers(args.header)
    listed, listed_version = read_list(args.symbols)
    exported = exported_symbols(args.library)
    problems = []

    # Against the header: listed entries kept, unchanged.
    dropped = [n for n in listed if n not in declared]
    changed = [n for n in listed if n in declared and declared[n] != listed[n]]
    new = [n for n in declared if n not in listed]

    # Against the library.
    funcs = [n for n, (k, _) in declared.items() if k == "func"]
    not_exported = sorted(n for n in funcs if n not in exported)
    not_exported += sorted(n for n, (k, _) in listed.items() if k == "func" and n not in exported and n not in declared)
    foreign = sorted(s for s in exported
                     if s not in TOOLCHAIN_SYMBOLS and not s.startswith("mx_") and declared.get(s, ("",))[0] != "func")
    undeclared = sorted(s for s in exported if s.startswith("mx_") and s not in declared)

    if args.update:
        if listed_version is not None and version < listed_version:
            raise SystemExit(f"abi_check: MX_ABI_VERSION went down ({listed_version} -> {version})")
        if (dropped or changed) and listed_version is not None and version <= listed_version:
            for n in dropped:
                print(f"  removed: {listed[n][0]} {n} {listed[n][1]}", file=sys.stderr)
            for n in changed:
                print(f"  changed: {n}: {listed[n][1]}  ->  {declared[n][1]}", file=sys.stderr)
            raise SystemExit(
                f"abi_check: refusing to drop or change published entries while MX_ABI_VERSION is still "
                f"{version}: the ABI is append-only (raise MX_ABI_VERSION in c_api.h for a breaking change)")
        if not_exported or foreign or undeclared:
            for n in not_exported:
                print(f"  declared but not exported: {n}", file=sys.stderr)
            for n in foreign + undeclared:
                print(f"  exported but not part of the ABI: {n}", file=sys.stderr)
            raise SystemExit("abi_check: fix the library's exports before updating the list")
        merged = dict((n, v) for n, v in listed.items() if n in declared)
        for n in merged:
            merged[n] = declared[n]
        for n in new:
            merged[n] = declared[n]
        write_list(args.symbols, merged, version)
        print(f"abi_check: {args.symbols}: {len(merged)} entries ({len(new)} new), abi_version {version}")
        return 0

    if listed_version is None:
        problems.append(f"{args.symbols} does not exist: run with --update to create it")
    elif version < listed_version:
        problems.append(f"MX_ABI_VERSION went down: the list was written under {listed_version}, c_api.h says {version}")
    for n in dropped:
        problems.append(f"published {listed[n][0]} '{n}' is no longer declared in c_api.h or a companion header (was: {listed[n][1]})")
    for n in changed:
        problems.append(f"published {listed[n][0]} '{n}' changed: {listed[n][1]}  ->  {declared[n][1]}")
    for n in not_exported:
        problems.append(f"function '{n}' is not exported by {args.library}")
    for n in foreign:
        problems.append(f"the library exports '{n}', which is neither an mx_ function nor declared in a companion "
                        f"header (hide C++ internals)")
    for n in undeclared:
        problems.append(f"the library exports '{n}', which c_api.h does not declare")
    for n in new:
        problems.append(f"{declared[n][0]} '{n}' is declared in c_api.h (or a companion header) but not published in {args.symbols} "
                        f"(run tools/abi_check.py with --update and commit the list)")

    nfunc = len(funcs)
    if problems:
        shown = problems[:60]
        for p in shown:
            print("FAIL " + p)
        if len(problems) > len(shown):
            print(f"... and {len(problems) - len(shown)} more")
        print(f"abi_check: {len(problems)} problem(s); {nfunc} functions declared, {len(exported)} symbols exported")
        return 1
    print(f"abi_check: OK: {len(listed)} published entries ({nfunc} functions) unchanged and exported, "
          f"nothing else exported; MX_ABI_VERSION {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
