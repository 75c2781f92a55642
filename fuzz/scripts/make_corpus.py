#!/usr/bin/env python3
"""Writes the seed corpus under fuzz/corpus/<target>/ from the repository's own
realistic inputs: the string literals of the parsers' table tests, the chat
exports and product pages used as test fixtures, and signed ingest batches
built here the way the collector signs them. Run from the repository root;
re-running it rewrites the same files (names are content hashes)."""

import hashlib, hmac, json, os, re, shutil, sys

ROOT = os.getcwd()
OUT = os.path.join(ROOT, "fuzz", "corpus")
MAX_FILES = 60
MAX_BYTES = 4096

def rust_strings(path):
    """The string literals of a Rust file (plain and raw), unescaped."""
    src = open(os.path.join(ROOT, path), encoding="utf-8").read()
    out = []
    for m in re.finditer(r'r(#+)"(.*?)"\1|"((?:[^"\\\n]|\\.|\\\n)*)"', src, re.S):
        if m.group(2) is not None:
            out.append(m.group(2))
            continue
        s = m.group(3)
        s = re.sub(r"\\\n\s*", "", s)
        s = re.sub(r"\\u\{([0-9a-fA-F]+)\}", lambda x: chr(int(x.group(1), 16)), s)
        s = s.replace("\\n", "\n").replace("\\r", "\r").replace("\\t", "\t").replace('\\"', '"').replace("\\'", "'").replace("\\\\", "\\")
        out.append(s)
    return out

def write(target, items):
    folder = os.path.join(OUT, target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    seen = set()
    for item in items:
        data = item if isinstance(item, bytes) else item.encode("utf-8")
        data = data[:MAX_BYTES]
        digest = hashlib.sha1(data).hexdigest()[:16]
        if not data or digest in seen:
            continue
        seen.add(digest)
        with open(os.path.join(folder, digest), "wb") as f:
            f.write(data)
        if len(seen) >= MAX_FILES:
            break
    print(f"{target}: {len(seen)} files")

def messages():
    texts = [s for s in rust_strings("gateway/src/parse/offers_tests.rs") if len(s) > 12 and any(c.isdigit() for c in s)]
    texts += [s for s in rust_strings("gateway/src/parse/offers.rs") if len(s) > 12]
    return texts

def fixture(path):
    return open(os.path.join(ROOT, path), "rb").read()

def exports_dir():
    d = "collector-client/tests/fixtures/exports"
    return [fixture(os.path.join(d, n)) for n in sorted(os.listdir(os.path.join(ROOT, d)))]

def pages():
    d = "gateway/tests/fixtures/wa"
    return [fixture(os.path.join(d, n)) for n in sorted(os.listdir(os.path.join(ROOT, d))) if n.endswith(".html")]

def sign(secret, ts, body):
    return hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()

def batches():
    msgs = messages()[:12]
    out = []
    for i, text in enumerate(msgs):
        m = {"chat_id": f"1203630{i:05d}@g.us", "chat_title": "Nairobi Phones", "sender": f"2547123456{i:02d}@s.whatsapp.net",
             "sender_name": "Vendor", "message_id": f"3EB0{i:08X}", "timestamp": 1767000000 + i * 60, "text": text}
        if i % 3 == 1:
            m["timestamp"] = "2026-01-22T10:%02d:00+03:00" % i
            m["media"] = [{"url": "https://mmg.whatsapp.net/v/t62.7118-24/abc.enc", "mime_type": "image/jpeg", "sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "caption": text[:40]}]
        if i % 4 == 2:
            del m["chat_id"]; del m["message_id"]
        out.append(json.dumps({"client_id": f"collector-{i % 3}", "messages": [m]}, ensure_ascii=i % 2 == 0).encode())
    out.append(json.dumps({"client_id": "bulk", "messages": [{"chat_title": "T", "text": t} for t in msgs[:8]]}).encode())
    out += [b'{"client_id":"c","messages":[]}', b'{"client_id":"","messages":[]}', b'{"client_id":"c","messages":[{"chat_title":"x","timestamp":-1}]}',
            b'{"client_id":"c","messages":[{"chat_title":"x","timestamp":"not a date"}]}', b'{"client_id":"c","messages":[{"chat_title":"x","timestamp":1e300}]}',
            b'{"client_id":"c\\u0007","messages":[]}', b'{"client_id":"c","messages":[{"chat_title":"x"}], "extra": {"nested": [1,2,3]}}',
            b'{"client_id":"c","messages":[{"chat_title":"x","media":[{}]}]} trailing', b'{"client_id":"c","messages":[{"chat_title":"x","text":"\\ud800"}]}',
            b'[]', b'', b'{"client_id": 5, "messages": "no"}']
    for path in sorted(os.listdir(os.path.join(ROOT, "collector-client/tests/fixtures/relay"))):
        out.append(fixture(os.path.join("collector-client/tests/fixtures/relay", path)))
    return out

def signatures():
    out = []
    bodies = batches()[:10]
    stamps = ["2026-01-22T10:00:00Z", "1767000000", "1767000000.250", "2026-01-22T13:00:00+03:00", " 2026-01-22T10:00:00Z ", "9999-12-31T23:59:59Z",
              "0", "1969-12-31T23:59:59Z", "253402300799", "2026-13-01T00:00:00Z", "", "17670000001767000000"]
    secrets = ["s3cret-ingest-hmac", "rotated-secret-2026", "", "k"]
    for i, body in enumerate(bodies):
        ts, secret = stamps[i % len(stamps)], secrets[i % len(secrets)]
        sig = sign(secret or "fuzz-secret", ts, body)
        forms = [sig, "sha256=" + sig, sig.upper(), sig[:-1] + ("0" if sig[-1] != "0" else "1"), sig[:40], "sha256=" + "g" * 64][i % 6]
        out.append(f"{secret}\n{ts}\n{forms}\n".encode() + body)
    for ts in stamps:
        out.append(f"s3cret-ingest-hmac\n{ts}\n{sign('s3cret-ingest-hmac', ts, b'{}')}\n{{}}".encode())
    return out

def charset_inputs():
    out = []
    headers = [None, "text/html; charset=utf-8", "text/html; charset=Shift_JIS", 'text/html;charset="windows-1252"', "text/html; charset=bogus", "text/html; Charset = ISO-8859-1 ; q=1", "text/plain"]
    for i, page in enumerate(pages()):
        header = headers[i % len(headers)]
        out.append((f"content-type: {header}\n".encode() if header else b"") + page)
    out += [b"\xef\xbb\xbf<meta charset=shift_jis><title>BOM wins</title>", b"\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00",
            b"\xfe\xff\x00<\x00p", "<title>Simu ya bei nafuu – 12,000/=</title>".encode("utf-8"),
            "<title>Caf\u00e9 cr\u00e8me 1\u20ac</title>".encode("cp1252"), "<title>\u643a\u5e2f\u96fb\u8a71</title>".encode("shift_jis"),
            b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><title>\xf4\xc5\xcc\xc5\xc6\xcf\xce</title>',
            b"<!-- " + b"x" * 3000 + b' --><meta charset="gbk">', b"content-type: text/html; charset=utf-16le\n<\x00p\x00>\x00"]
    return out

def main():
    msgs = messages()
    write("offers", msgs)
    prices = [s for s in rust_strings("gateway/src/parse/price.rs") if any(c.isdigit() for c in s)]
    write("price", prices + [l for m in msgs for l in m.splitlines() if any(c.isdigit() for c in l)])
    phones = rust_strings("gateway/src/parse/phone.rs") + rust_strings("gateway/src/parse/mask.rs")
    write("phone", [s for s in phones if sum(c.isdigit() for c in s) >= 5] + ["254712345678@s.whatsapp.net", "+254 712 345 678", "00254712345678", "0712 345678", "123456789@lid", "+1 (415) 555-0132"])
    links = rust_strings("gateway/src/parse/links.rs")
    write("links", [s for s in links if "wa" in s or "whatsapp" in s] + [m for m in msgs if "wa.me" in m])
    write("export", exports_dir() + [s for s in rust_strings("collector-client/src/export/tests.rs") if "\n" in s or "/" in s])
    write("og", pages() + [s for s in rust_strings("gateway/src/pipeline/hydrate/og_tests.rs") if "<" in s])
    write("charset", charset_inputs())
    write("schema", batches())
    write("signature", signatures())

if __name__ == "__main__":
    sys.exit(main())
