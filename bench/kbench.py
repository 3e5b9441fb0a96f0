#!/usr/bin/env python3
"""Helpers for bench/run: a small Kantlijn API client, seeding, probes, wrk parsing and
the final table. Standard library only.

Every subcommand prints its result on stdout (JSON, or a single value where bench/run
reads it straight into a variable); progress goes to stderr. Any failure exits non-zero
with a one-line reason on stderr, which bench/run shows in the table.
"""

import argparse
import http.client
import itertools
import json
import math
import random
import re
import shlex
import sqlite3
import statistics
import sys
import threading
import time
import urllib.parse

# ---------------------------------------------------------------------------------------
# HTTP client


class Fail(Exception):
    """A failure with a reason worth showing to the person reading the table."""


class Response:
    def __init__(self, status, headers, body, seconds):
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.body = body
        self.seconds = seconds

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as err:
            raise Fail(f"HTTP {self.status}: answer is not JSON: {self.body[:200]!r}") from err


class Client:
    """One keep-alive connection to the server (http.client), as a browser or API client
    would use. Not thread-safe: one per thread."""

    def __init__(self, base, token=None, timeout=120):
        url = urllib.parse.urlsplit(base)
        self.host = url.hostname
        self.port = url.port or 80
        self.token = token
        self.timeout = timeout
        self.conn = None
        self.used = False

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        self.used = False

    def request(self, method, path, body=None, headers=None, auth=False):
        data = None if body is None else json.dumps(body).encode()
        hdrs = dict(headers or {})
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        if auth:
            hdrs["Authorization"] = f"Bearer {self.token}"
        # One retry, only when a reused keep-alive connection turned out closed by the
        # server before it answered (the request was not processed then).
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            reused = self.used
            try:
                started = time.perf_counter()
                # skip_accept_encoding: send no Accept-Encoding at all unless asked for.
                self.conn.putrequest(method, path, skip_accept_encoding=True)
                for name, value in hdrs.items():
                    self.conn.putheader(name, value)
                if data is not None:
                    self.conn.putheader("Content-Length", str(len(data)))
                self.conn.endheaders(data)
                resp = self.conn.getresponse()
                payload = resp.read()
                seconds = time.perf_counter() - started
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2 or not reused:
                    raise
                continue
            self.used = True
            got = {k.lower(): v for k, v in resp.getheaders()}
            if got.get("connection", "").lower() == "close":
                self.close()
            return Response(resp.status, got, payload, seconds)
        raise AssertionError("unreachable")

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    # Seeding must get its data in even from a server that answers some writes with a
    # 5xx under concurrency (SQLite "database is locked"): such a write is retried, and
    # counted, so that the seeding row can say so. The load measurements never retry.
    retries = 0
    retries_lock = threading.Lock()
    MAX_TRIES = 30

    def write(self, path, body, auth=False):
        for attempt in range(1, self.MAX_TRIES + 1):
            r = self.request("POST", path, body, auth=auth)
            if r.status < 500 or attempt == self.MAX_TRIES:
                return r
            with Client.retries_lock:
                Client.retries += 1
            time.sleep(min(0.02 * attempt, 0.5))
        raise AssertionError("unreachable")

    # --- the API calls the benchmark needs --------------------------------------------

    def create_article(self, title, body, summary):
        r = self.write(
            "/api/v1/articles",
            {
                "title": title,
                "body": body,
                "status": "published",
                "summary": summary,
                "reactions_open": True,
            },
            auth=True,
        )
        if r.status != 201:
            raise Fail(f"POST /api/v1/articles: HTTP {r.status}: {r.body[:300]!r}")
        slug = r.json().get("slug")
        if not slug:
            raise Fail(f"POST /api/v1/articles: no slug in {r.body[:300]!r}")
        return slug

    def post_reaction(self, slug, name, email, text, parent=None, url=None):
        """Returns (id, status) of a 201 answer; anything else is a failure."""
        r = self.write(
            f"/api/v1/articles/{slug}/comments",
            {
                "author_name": name,
                "author_email": email,
                "author_url": url,
                "body": text,
                "parent_id": parent,
            },
        )
        if r.status != 201:
            raise Fail(f"POST /api/v1/articles/{slug}/comments: HTTP {r.status}: {r.body[:300]!r}")
        answer = r.json()
        return answer["id"], answer["status"]

    def moderate(self, comment_id, action):
        r = self.write(f"/api/v1/comments/{comment_id}/moderation", {"action": action}, auth=True)
        if r.status != 200:
            raise Fail(f"{action} of reaction {comment_id}: HTTP {r.status}: {r.body[:300]!r}")

    def approve(self, comment_id):
        self.moderate(comment_id, "approve")

    def post_approved(self, slug, name, email, text, parent=None, url=None):
        """Posts a reaction and approves it when the rules did not already."""
        comment_id, status = self.post_reaction(slug, name, email, text, parent, url)
        if status != "approved":
            self.approve(comment_id)
        return comment_id, status == "approved"

    def reaction_count(self, slug):
        r = self.get(f"/api/v1/articles/{slug}")
        if r.status != 200:
            raise Fail(f"GET /api/v1/articles/{slug}: HTTP {r.status}")
        return r.json()["reaction_count"]


def log(msg):
    print(f"  [kbench] {msg}", file=sys.stderr, flush=True)


ARTICLE_BODY = (
    "Het Lerarenregister is verleden tijd; het **Lerarenportfolio** neemt het over.\n\n"
    "Wat verandert er voor leraren, schoolleiders en lerarenopleidingen? Een overzicht, "
    "met de cijfers van de afgelopen jaren en de vragen die nog open liggen.\n\n"
    "## Wat blijft\n\nDe bekwaamheidseisen blijven het uitgangspunt.\n\n"
    "## Wat verandert\n\nHet portfolio is van de leraar zelf en niet openbaar.\n"
)

# ---------------------------------------------------------------------------------------
# Seeding


def reaction_texts(path):
    """Bodies without links from the 200-comment data set, so that posts by an approved
    author are approved directly (the link rule would hold them)."""
    with open(path, encoding="utf-8") as f:
        texts = [c["text"] for c in json.load(f) if "http" not in c["text"] and "](" not in c["text"]]
    if not texts:
        raise Fail("no link-free texts in the comment data")
    return texts


def is_top_level(i):
    """Exactly 70 % top-level, deterministic: positions 0-6 of every ten. The first
    reaction is always top-level, so a reply always has an earlier one to answer."""
    return i % 10 < 7


def cmd_article(args):
    c = Client(args.base, args.token)
    print(c.create_article(args.title, ARTICLE_BODY, "Een artikel om de site mee te belasten."))


def cmd_seed_200(args):
    """One article with the 200 comments of the data file, each approved before its
    replies are posted; then checks that the page says "200 reacties"."""
    with open(args.file, encoding="utf-8") as f:
        data = json.load(f)
    c = Client(args.base, args.token)
    started = time.perf_counter()
    slug = c.create_article(
        "Van Lerarenregister naar Lerarenportfolio",
        ARTICLE_BODY,
        "Wat het nieuwe portfolio betekent voor leraren en scholen.",
    )
    ids = []
    for i, item in enumerate(data):
        parent = item["parent"]
        if parent is not None and parent >= i:
            raise Fail(f"comment {i} answers a later comment ({parent})")
        comment_id, _ = c.post_approved(
            slug,
            item["author"],
            item["email"],
            item["text"],
            parent=None if parent is None else ids[parent],
            url=item["website"],
        )
        ids.append(comment_id)
    seconds = time.perf_counter() - started
    for comment_id in (ids[3], ids[40]):
        c.moderate(comment_id, "feature")
    votes = seed_votes(c, ids)
    page = c.get(f"/artikelen/{slug}")
    want = f"{len(data)} reacties"
    if page.status != 200 or want.encode() not in page.body:
        raise Fail(f"/artikelen/{slug} (HTTP {page.status}) does not say {want!r}")
    print(
        json.dumps(
            {
                "slug": slug,
                "reactions": len(data),
                "votes": votes,
                "seconds": round(seconds, 2),
                "retries": Client.retries,
            }
        )
    )


def seed_votes(client, ids):
    """"Nuttig" votes on every fifth reaction, 1 to 7 each, through the API, each from
    an address of its own (the server trusts 127.0.0.1 as its proxy). Returns how many."""
    cast = 0
    for n, comment_id in enumerate(ids):
        if n % 5:
            continue
        for voter in range(1 + n % 7):
            r = client.request(
                "POST",
                f"/api/v1/comments/{comment_id}/vote",
                headers={"X-Forwarded-For": f"10.77.{voter}.{n % 250 + 1}"},
            )
            if r.status != 200:
                raise Fail(f"voting on reaction {comment_id}: HTTP {r.status}: {r.body[:300]!r}")
            cast += 1
    return cast


class Pool:
    """Runs fn(client, item) for every item on `threads` threads, each with its own
    keep-alive client; the first failure stops the pool and is raised."""

    def __init__(self, base, token, threads):
        self.base, self.token, self.threads = base, token, threads

    def run(self, items, fn):
        items = iter(items)
        lock = threading.Lock()
        errors = []

        def worker():
            client = Client(self.base, self.token)
            while True:
                with lock:
                    if errors:
                        return
                    item = next(items, None)
                if item is None:
                    return
                try:
                    fn(client, item)
                except Exception as err:  # noqa: BLE001 - reported to the caller
                    with lock:
                        errors.append(err)
                    return

        workers = [threading.Thread(target=worker) for _ in range(self.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        if errors:
            raise errors[0] if isinstance(errors[0], Fail) else Fail(repr(errors[0]))


AUTHOR = ("Vaste Lezer", "vaste.lezer@example.org")


def approve_author(client, slug, text):
    """The approved-author trick: one reaction by AUTHOR, approved by hand; from then on
    the rules approve every reaction of that name + e-mail pair directly."""
    comment_id, _ = client.post_approved(slug, AUTHOR[0], AUTHOR[1], text)
    return comment_id


def cmd_seed_thread(args):
    """One article with `count` approved reactions, 70 % top-level, replies to random
    earlier ones, posted on several threads."""
    texts = reaction_texts(args.texts)
    c = Client(args.base, args.token)
    started = time.perf_counter()
    slug = c.create_article(
        f"Een lange discussie ({args.count} reacties)",
        ARTICLE_BODY,
        "Een artikel met heel veel reacties.",
    )
    ids = [approve_author(c, slug, texts[0])]
    lock = threading.Lock()
    held = [0]

    def post(client, i):
        rng = random.Random(i)
        parent = None
        if not is_top_level(i):
            with lock:
                parent = rng.choice(ids)
        comment_id, direct = client.post_approved(
            slug, AUTHOR[0], AUTHOR[1], texts[i % len(texts)], parent=parent
        )
        with lock:
            ids.append(comment_id)
            held[0] += not direct
            if len(ids) % 1000 == 0:
                log(f"{len(ids)} of {args.count} reactions posted")

    Pool(args.base, args.token, args.threads).run(range(1, args.count), post)
    seconds = time.perf_counter() - started
    count = c.reaction_count(slug)
    if count != args.count:
        raise Fail(f"article {slug} has {count} approved reactions, expected {args.count}")
    top = sum(is_top_level(i) for i in range(args.count))
    print(
        json.dumps(
            {
                "slug": slug,
                "reactions": args.count,
                "top_level": top,
                "approved_by_hand": held[0] + 1,
                "seconds": round(seconds, 2),
                "retries": Client.retries,
            }
        )
    )


# Dutch reactions for the big site, made up from a small vocabulary so that a search has
# real words to find: the first nouns occur in about half of the reactions, the last in a
# few per cent, the RARE words in a handful of reactions each, and no text holds a word
# outside these lists (a search for one finds nothing). Plain sentences: no links (the
# approved-author trick), no Markdown (so that `search-check` can line a text's words up
# with its terms in the index).

# (article, noun) in falling order of use: weight 1 / (rank + 4).
NOUNS = [
    ("de", "school"), ("de", "gemeente"), ("het", "station"), ("de", "fiets"),
    ("de", "wethouder"), ("het", "park"), ("de", "buurt"), ("de", "trein"),
    ("het", "plan"), ("de", "bibliotheek"), ("de", "leraar"), ("de", "markt"),
    ("de", "brug"), ("de", "burgemeester"), ("het", "budget"), ("de", "straat"),
    ("de", "haven"), ("het", "museum"), ("de", "wijk"), ("de", "raad"),
    ("het", "plein"), ("de", "bus"), ("de", "ouders"), ("de", "sporthal"),
    ("het", "theater"), ("de", "dijk"), ("de", "kerk"), ("het", "zwembad"),
    ("het", "stadhuis"), ("de", "begroting"), ("de", "jeugd"), ("de", "winkel"),
    ("de", "parkeerplaats"), ("het", "verkeer"), ("de", "molen"), ("het", "bos"),
    ("de", "boer"), ("de", "kermis"), ("de", "vereniging"), ("het", "rapport"),
    ("de", "krant"), ("de", "buren"), ("de", "huur"), ("de", "woningen"),
    ("het", "onderwijs"), ("de", "fietsenstalling"), ("de", "rotonde"), ("het", "kanaal"),
]
NOUN_CUM = list(itertools.accumulate(1 / (rank + 4) for rank in range(1, len(NOUNS) + 1)))
ADJECTIVES = ["nieuwe", "oude", "drukke", "mooie", "dure", "lege", "grote", "kleine",
              "lelijke", "rustige", "gevaarlijke", "prachtige", "vieze", "donkere"]
PREDICATES = ["te duur", "veel te druk", "prima", "erg mooi", "gevaarlijk", "onduidelijk",
              "te laat", "best rustig", "een succes", "een gemiste kans", "gewoon leeg"]
VERBS = ["ligt naast", "betaalt voor", "wacht op", "zorgt voor", "praat over",
         "kijkt naar", "hoort bij", "lijkt op", "staat tegenover"]
TIMES = ["Gisteren", "Vorige week", "Vanochtend", "Dit weekend", "Afgelopen zomer",
         "In maart", "Elke dag", "Sinds de zomer"]
ADVERBS = ["echt", "veel", "gewoon", "snel", "eindelijk", "toch"]
SHORT = ["Eens.", "Dank voor het stuk.", "Goed punt!", "Precies dit.", "Helemaal mee eens.",
         "Dat klopt niet helemaal.", "Wie betaalt dat eigenlijk?"]
# One reaction in about 2,000 gets a sentence with one of these: each is in a few.
RARE = ["vuurtoren", "klokkenspel", "ijsbaan", "sterrenwacht", "kinderboerderij",
        "carillon", "eendenkooi", "hertenkamp"]


def _noun(rng, adjective=False):
    det, noun = rng.choices(NOUNS, cum_weights=NOUN_CUM)[0]
    return f"{det} {rng.choice(ADJECTIVES)} {noun}" if adjective else f"{det} {noun}"


def _sentence(rng):
    kind = rng.randrange(7)
    if kind == 0:
        s = f"{_noun(rng, True)} {rng.choice(VERBS)} {_noun(rng)}."
    elif kind == 1:
        s = f"Ik vind {_noun(rng)} {rng.choice(PREDICATES)}."
    elif kind == 2:
        s = f"{rng.choice(TIMES)} was {_noun(rng)} {rng.choice(PREDICATES)}."
    elif kind == 3:
        verb, prep = rng.choice(VERBS).split()
        s = f"Waarom {verb} {_noun(rng)} niet {prep} {_noun(rng)}?"
    elif kind == 4:
        s = f"{_noun(rng)} moet {rng.choice(ADVERBS)} beter, zegt {_noun(rng)}."
    elif kind == 5:
        s = f"Wij hebben {_noun(rng, True)} {rng.choice(TIMES).lower()} gezien."
    else:
        return rng.choice(SHORT)
    return s[0].upper() + s[1:]


def dutch_reaction(rng):
    """4-12 sentences (about 300 characters), sometimes in two paragraphs."""
    sentences = [_sentence(rng) for _ in range(rng.randint(4, 12))]
    if rng.random() < 1 / 2000:
        rare = f"En vergeet {rng.choice(['de', 'het'])} {rng.choice(RARE)} niet."
        sentences.insert(rng.randrange(len(sentences) + 1), rare)
    if len(sentences) > 5 and rng.random() < 0.5:
        cut = rng.randrange(2, len(sentences) - 1)
        return " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
    return " ".join(sentences)


def cmd_seed_big(args):
    """`articles` articles with `per` approved reactions each (70 % top-level), one
    author everywhere, texts from dutch_reaction (the same for the same article and
    position in every run). Each thread seeds whole articles, so replies only ever need
    parents that the same thread posted before. Writes the crawl plan to --plan."""
    c = Client(args.base, args.token)
    started = time.perf_counter()
    first = c.create_article("Groot archief, artikel 1", ARTICLE_BODY, "Archief.")
    first_reaction = approve_author(c, first, dutch_reaction(random.Random("tekst-0-0")))
    plan = [None] * args.articles
    lock = threading.Lock()
    done = [0]

    def seed(client, n):
        slug = first if n == 0 else client.create_article(
            f"Groot archief, artikel {n + 1}", ARTICLE_BODY, "Archief."
        )
        rng = random.Random(n)
        words = random.Random(f"tekst-{n}")
        ids = [] if n else [first_reaction]  # article 1 already has its first reaction
        for i in range(len(ids), args.per):
            parent = None if is_top_level(i) else rng.choice(ids)
            comment_id, _ = client.post_approved(
                slug, AUTHOR[0], AUTHOR[1], dutch_reaction(words), parent=parent
            )
            ids.append(comment_id)
        plan[n] = {"slug": slug, "top_level": sum(is_top_level(i) for i in range(args.per))}
        with lock:
            done[0] += 1
            if done[0] % 50 == 0:
                rate = done[0] * args.per / (time.perf_counter() - started)
                log(f"{done[0]} of {args.articles} articles seeded ({rate:.0f} reactions/s)")

    Pool(args.base, args.token, args.threads).run(range(args.articles), seed)
    seconds = time.perf_counter() - started
    # Spot check: the first and last articles hold what was posted.
    for entry in (plan[0], plan[-1]):
        count = c.reaction_count(entry["slug"])
        if count != args.per:
            raise Fail(f"article {entry['slug']} has {count} approved reactions, expected {args.per}")
    with open(args.plan, "w", encoding="utf-8") as f:
        json.dump(plan, f)
    total = args.articles * args.per
    print(
        json.dumps(
            {
                "articles": args.articles,
                "reactions": total,
                "seconds": round(seconds, 1),
                "per_second": round(total / seconds, 1),
                "retries": Client.retries,
            }
        )
    )


def cmd_crawl(args):
    """Requests every page of every article in the plan exactly once. The page count
    comes from what was seeded (50 top-level reactions a page), never from probing."""
    with open(args.plan, encoding="utf-8") as f:
        plan = json.load(f)
    urls = []
    for entry in plan:
        pages = max(1, math.ceil(entry["top_level"] / args.page_size))
        urls.append(f"/artikelen/{entry['slug']}")
        urls += [f"/artikelen/{entry['slug']}?pagina={p}" for p in range(2, pages + 1)]
    statuses = {}
    nbytes = [0]
    lock = threading.Lock()

    def fetch(client, url):
        r = client.get(url)
        with lock:
            statuses[r.status] = statuses.get(r.status, 0) + 1
            nbytes[0] += len(r.body)

    started = time.perf_counter()
    Pool(args.base, None, args.threads).run(urls, fetch)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "requests": len(urls),
                "non_200": sum(n for s, n in statuses.items() if s != 200),
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
                "bytes": nbytes[0],
                "seconds": round(seconds, 2),
            }
        )
    )


# ---------------------------------------------------------------------------------------
# Probes


def cmd_fetch(args):
    """GET once; the body goes to --out, a summary to stdout."""
    headers = dict(h.split(": ", 1) for h in args.header)
    r = Client(args.base).get(args.path, headers)
    if r.status != 200:
        raise Fail(f"GET {args.path}: HTTP {r.status}")
    if args.out:
        with open(args.out, "wb") as f:
            f.write(r.body)
    print(
        json.dumps(
            {
                "status": r.status,
                "bytes": len(r.body),
                "content_encoding": r.headers.get("content-encoding", "identity"),
                "server_timing": r.headers.get("server-timing"),
            }
        )
    )


def cmd_status(args):
    """Prints the HTTP status of one GET, or 0 when nothing answers (for polling)."""
    try:
        print(Client(args.base, timeout=5).get(args.path).status)
    except (OSError, http.client.HTTPException):
        print(0)


def cmd_jshell(args):
    """Prints `name=value` lines (shell-quoted) for some fields of a JSON file, for
    `eval` in bash; dotted keys become names with underscores; missing ones are empty."""
    with open(args.file, encoding="utf-8") as f:
        data = json.load(f)
    for key in args.keys:
        value = data
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            value = ""
        elif isinstance(value, (dict, list)):
            value = json.dumps(value)
        elif isinstance(value, float):
            value = f"{value:.6g}" if abs(value) < 1e6 else f"{value:.0f}"
        print(f"{key.replace('.', '_')}={shlex.quote(str(value))}")


def cmd_post_stats(args):
    """Sums up a wrk run of post.lua: accepted (201) per second, the other statuses,
    and how many requests were still in flight when wrk stopped."""
    run = parse_wrk(open(args.file, encoding="utf-8", errors="replace").read())
    lua = run["lua"]
    if "sent" not in lua:
        raise Fail(f"{args.file}: post.lua printed no counts")
    statuses = {k[len("status_"):]: v for k, v in lua.items() if k.startswith("status_")}
    responses = sum(statuses.values())
    seconds = lua.get("duration_us", 0) / 1e6 or run.get("duration_s") or 1
    accepted = statuses.get("201", 0)
    others = {k: v for k, v in sorted(statuses.items()) if k != "201"}
    print(
        json.dumps(
            {
                "accepted": accepted,
                "accepted_per_s": accepted / seconds,
                "non201": sum(others.values()),
                "non201_detail": ", ".join(f"{k}: {v}" for k, v in others.items()) or "none",
                "sent": lua["sent"],
                "responses": responses,
                "in_flight": lua["sent"] - responses,
                "socket_errors": run["socket_errors"],
                "errors": run["errors"],
                "p99_ms": run.get("p99_ms"),
                "seconds": seconds,
            }
        )
    )


RENDER = re.compile(r"(?:^|,)\s*render\s*;(?:[^,]*;)?\s*dur=([0-9.]+)")


def cmd_render_probe(args):
    """`count` times: post a fresh reaction (unique e-mail, so it waits in the queue),
    approve it through the moderation API (which invalidates the article's cached page),
    then GET the first page once and read `Server-Timing: render;dur=X`."""
    texts = reaction_texts(args.texts)
    c = Client(args.base, args.token)
    c.get(args.path)  # make sure the page is rendered once before the first sample
    render_ms, client_ms, cache_hits, no_header = [], [], 0, 0
    tag = f"{int(time.time())}"
    for i in range(args.count):
        comment_id, status = c.post_reaction(
            args.slug,
            f"Meetlezer {tag}-{i}",
            f"meetlezer-{tag}-{i}@example.org",
            texts[i % len(texts)],
        )
        if status != "approved":
            c.approve(comment_id)
        r = c.get(args.path)
        if r.status != 200:
            raise Fail(f"GET {args.path}: HTTP {r.status}")
        client_ms.append(r.seconds * 1000)
        timing = r.headers.get("server-timing")
        if timing is None:
            no_header += 1
            continue
        m = RENDER.search(timing)
        if m:
            render_ms.append(float(m.group(1)))
        elif "cache" in timing:
            cache_hits += 1
        else:
            raise Fail(f"unreadable Server-Timing header: {timing!r}")
    print(
        json.dumps(
            {
                "samples": args.count,
                "render_ms": render_ms,
                "client_ms": [round(x, 3) for x in client_ms],
                "cache_hits": cache_hits,
                "no_header": no_header,
                "render_median": statistics.median(render_ms) if render_ms else None,
                "render_max": max(render_ms) if render_ms else None,
                "client_median": round(statistics.median(client_ms), 3),
                "client_max": round(max(client_ms), 3),
            }
        )
    )


def cmd_count_sqlite(args):
    """Reactions stored for one article, read straight from the SQLite file."""
    db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True, timeout=30)
    try:
        (n,) = db.execute(
            "SELECT count(*) FROM comments WHERE article_id = (SELECT id FROM articles WHERE slug = ?)",
            (args.slug,),
        ).fetchone()
    finally:
        db.close()
    print(n)


# ---------------------------------------------------------------------------------------
# Search (step h, on the big site)

# (type, query) as a person would type them, for the words of dutch_reaction: the type
# names are what the table shows. Measured in this order, round and round.
SEARCH_QUERIES = [
    ("common", "school"),
    ("common", "bibliotheek"),
    ("common", "zwembad"),
    ("two_words", "fiets station"),
    ("two_words", "gemeente zwembad"),
    ("phrase", '"nieuwe school"'),
    ("phrase", '"wacht op de trein"'),
    ("exclusion", "school -gemeente"),
    ("exclusion", "bibliotheek -fiets"),
    ("rare", "vuurtoren"),
    ("rare", "carillon"),
    ("nowhere", "zeppelinhaven"),
    ("nowhere", "xylofoonorkest"),
]
SEARCH_LIMIT = 20  # the API's default page size


def search_path(query):
    return f"/api/v1/search?q={urllib.parse.quote(query, safe='')}&limit={SEARCH_LIMIT}"


def query_parts(query):
    """The words, phrases and excluded words of one of SEARCH_QUERIES (the syntax of
    domain::search::Query, for these simple queries)."""
    words, phrases, none = [], [], []
    for phrase, token in re.findall(r'"([^"]*)"|(\S+)', query):
        if phrase:
            phrases.append(phrase.lower().split())
        elif token.startswith("-"):
            none.append(token[1:].lower())
        else:
            words.append(token.lower())
    return words, phrases, none


WORD = re.compile(r"[^\W_]+")  # runs of letters and digits, as in domain::search::words


def index_term(db, word):
    """The term the index holds for `word`, read from the index itself (the server folds
    and stems in Rust): the k-th word of a big-site reaction's text is the k-th term of
    its search_documents row. None when no reaction has the word."""
    rows = db.execute(
        "SELECT c.body_md, d.body FROM comments c "
        "JOIN search_documents d ON d.kind = 'reaction' AND d.ref_id = c.id "
        "WHERE c.body_md LIKE ? LIMIT 20",
        (f"%{word}%",),
    ).fetchall()
    for text, terms in rows:
        words, terms = [w.lower() for w in WORD.findall(text)], terms.split()
        if len(words) == len(terms) and word in words:
            return terms[words.index(word)]
    return None


def count_matches(db, query):
    """Documents (reactions and articles) in the FTS5 index that match the query, or
    None when a wanted word is in no reaction's text (then nothing matches it)."""
    words, phrases, none = query_parts(query)
    terms = {w: index_term(db, w) for w in words + [w for p in phrases for w in p] + none}
    if any(terms[w] is None for w in words + [w for p in phrases for w in p]):
        return None
    parts = [f'"{terms[w]}"' for w in words] + ['"' + " ".join(terms[w] for w in p) + '"' for p in phrases]
    fts = " AND ".join(parts) + "".join(f' NOT "{terms[w]}"' for w in none if terms[w])
    (n,) = db.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", (fts,)).fetchone()
    return n


def cmd_search_check(args):
    """Each query once through the API (must answer 200 with results, or none for the
    'nowhere' type), its matches counted in the database, and the query list for
    search.lua written to --queries-out ("type<TAB>path" lines)."""
    c = Client(args.base)
    db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True, timeout=30)
    checked = []
    try:
        for kind, query in SEARCH_QUERIES:
            r = c.get(search_path(query))
            if r.status != 200:
                raise Fail(f"GET {search_path(query)}: HTTP {r.status}: {r.body[:200]!r}")
            items = len(r.json().get("items", []))
            # A rare word may be in no reaction of a small site (BENCH_BIG_ARTICLES).
            if (kind == "nowhere" and items) or (kind not in ("nowhere", "rare") and not items):
                raise Fail(f"search {query!r} ({kind}) returned {items} results")
            matches = count_matches(db, query)
            checked.append({"type": kind, "q": query, "results": items, "matches": matches or 0})
    finally:
        db.close()
    with open(args.queries_out, "w", encoding="utf-8") as f:
        for kind, query in SEARCH_QUERIES:
            f.write(f"{kind}\t{search_path(query)}\n")
    text = "; ".join(f"{q['type'].replace('_', ' ')} {q['q']}: {q['matches']:,}" for q in checked)
    print(json.dumps({"queries": checked, "text": text}))


def cmd_search_stats(args):
    """Sums up a wrk run of search.lua: p50/p99 per query type and over all requests,
    from the per-request times the script took, and every status."""
    run = parse_wrk(open(args.file, encoding="utf-8", errors="replace").read())
    lua = run["lua"]
    if "sent" not in lua:
        raise Fail(f"{args.file}: search.lua printed no counts")
    kinds = []
    for kind, _ in SEARCH_QUERIES:
        if kind not in kinds:
            kinds.append(kind)
    per = {}
    for kind in kinds + ["all"]:
        if f"q_{kind}_n" not in lua:
            raise Fail(f"{args.file}: no answers timed for {kind}")
        per[kind] = {
            "n": lua[f"q_{kind}_n"],
            "p50_ms": lua[f"q_{kind}_p50_us"] / 1000,
            "p99_ms": lua[f"q_{kind}_p99_us"] / 1000,
            "max_ms": lua[f"q_{kind}_max_us"] / 1000,
        }
    statuses = {k[len("status_"):]: v for k, v in lua.items() if k.startswith("status_")}
    non2xx = sum(v for k, v in statuses.items() if not k.startswith("2"))
    seconds = lua.get("duration_us", 0) / 1e6 or run.get("duration_s") or 1
    print(
        json.dumps(
            {
                "per_type": per,
                "per_type_text": ", ".join(
                    f"{k.replace('_', ' ')} {v['p50_ms']:.2f} / {v['p99_ms']:.2f}" for k, v in per.items() if k != "all"
                ) + " ms",
                "requests": per["all"]["n"],
                "rps": per["all"]["n"] / seconds,
                "p50_ms": per["all"]["p50_ms"],
                "p99_ms": per["all"]["p99_ms"],
                "max_ms": per["all"]["max_ms"],
                "wrk_p99_ms": run.get("p99_ms"),
                "non2xx": non2xx,
                "status_429": statuses.get("429", 0),
                "statuses": ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
                "socket_errors": run["socket_errors"],
                "errors": run["errors"],
            }
        )
    )


# ---------------------------------------------------------------------------------------
# wrk output

TIME_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
TIME = r"([0-9]+(?:\.[0-9]+)?)(us|ms|s|m|h)"


def to_ms(value, unit):
    return float(value) * TIME_UNITS_MS[unit]


def parse_wrk(text):
    """Reads what wrk prints (with --latency) plus the `BENCH key value` lines of our
    Lua scripts. Raises Fail when the run has no Requests/sec line (wrk failed)."""
    out = {"non2xx": 0, "socket_errors": 0, "errors": {}, "lua": {}}
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    if not m:
        tail = " / ".join(text.strip().splitlines()[-3:])
        raise Fail(f"wrk printed no Requests/sec ({tail[:200]})")
    out["rps"] = float(m.group(1))
    m = re.search(r"^\s*(\d+) requests in " + TIME, text, re.M)
    if m:
        out["requests"] = int(m.group(1))
        out["duration_s"] = to_ms(m.group(2), m.group(3)) / 1000
    # The lines after "Latency Distribution": "     99%    3.21ms" (us, ms, s, m, h).
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if line.strip() == "Latency Distribution":
            for row in lines[n + 1 :]:
                p = re.fullmatch(r"\s*([0-9.]+)%\s+" + TIME + r"\s*", row)
                if not p:
                    break
                out[f"p{float(p.group(1)):g}_ms"] = to_ms(p.group(2), p.group(3))
            break
    m = re.search(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", text, re.M)
    if m:
        out["non2xx"] = int(m.group(1))
    m = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    if m:
        out["errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
        out["socket_errors"] = sum(out["errors"].values())
    for key, value in re.findall(r"^BENCH (\S+) (\S+)\s*$", text, re.M):
        out["lua"][key] = float(value) if "." in value else int(value)
    return out


def cmd_wrk_parse(args):
    with open(args.file, encoding="utf-8", errors="replace") as f:
        print(json.dumps(parse_wrk(f.read())))


def cmd_jget(args):
    """Prints one field of a JSON file (dotted path), for bash."""
    with open(args.file, encoding="utf-8") as f:
        value = json.load(f)
    for key in args.key.split("."):
        if isinstance(value, dict):
            value = value.get(key)
        else:
            value = None
        if value is None:
            break
    if value is None:
        if args.default is None:
            raise Fail(f"{args.file} has no {args.key}")
        value = args.default
    print(value if not isinstance(value, (dict, list)) else json.dumps(value))


# ---------------------------------------------------------------------------------------
# The final table


def read_tsv(path, width):
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                rows.append(parts + [""] * (width - len(parts)))
    except FileNotFoundError:
        pass
    return rows


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def cmd_table(args):
    """plan.tsv: id, step, label, target (table order); rows.tsv: id, value, pass;
    steps.tsv: step, status (ok|failed|skipped), reason. Exit 0 when every row passes
    (or is information only), 2 when only targets were missed, 1 when a step failed."""
    plan = read_tsv(f"{args.state}/plan.tsv", 4)
    rows = {r[0]: r for r in read_tsv(f"{args.state}/rows.tsv", 3)}
    steps = {s[0]: s for s in read_tsv(f"{args.state}/steps.tsv", 3)}
    lines = ["| measurement | value | target | pass? |", "| --- | --- | --- | --- |"]
    failed = missed = False
    for row_id, step, label, target in plan:
        if row_id in rows:
            value, verdict = rows[row_id][1], rows[row_id][2]
        else:
            status, reason = (steps.get(step) or [step, "not run", ""])[1:3]
            if status == "skipped":
                value, verdict = f"skipped ({reason})", "skipped"
            elif status == "failed":
                value, verdict = f"failed: {reason}", "failed"
            else:
                value, verdict = f"not measured (step {step}: {status})", "failed"
        failed |= verdict == "failed"
        missed |= verdict == "no"
        lines.append(f"| {cell(label)} | {cell(value)} | {cell(target)} | {cell(verdict)} |")
    failed |= any(s[1] == "failed" for s in steps.values())
    print("\n".join(lines))
    sys.exit(1 if failed else 2 if missed else 0)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    def command(name, fn, site=True, token=False):
        s = sub.add_parser(name)
        s.set_defaults(fn=fn)
        if site:
            s.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
        if token:
            s.add_argument("--token", required=True)
        return s

    s = command("article", cmd_article, token=True)
    s.add_argument("--title", required=True)
    s = command("seed-200", cmd_seed_200, token=True)
    s.add_argument("--file", required=True)
    s = command("seed-thread", cmd_seed_thread, token=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--texts", required=True)
    s.add_argument("--threads", type=int, default=4)
    s = command("seed-big", cmd_seed_big, token=True)
    s.add_argument("--articles", type=int, required=True)
    s.add_argument("--per", type=int, required=True)
    s.add_argument("--plan", required=True)
    s.add_argument("--threads", type=int, default=4)
    s = command("crawl", cmd_crawl)
    s.add_argument("--plan", required=True)
    s.add_argument("--page-size", type=int, default=50)
    s.add_argument("--threads", type=int, default=4)
    s = command("fetch", cmd_fetch)
    s.add_argument("--path", required=True)
    s.add_argument("--out")
    s.add_argument("--header", action="append", default=[], help="'Name: value'")
    s = command("render-probe", cmd_render_probe, token=True)
    s.add_argument("--slug", required=True)
    s.add_argument("--path", required=True)
    s.add_argument("--texts", required=True)
    s.add_argument("--count", type=int, default=20)
    s = command("status", cmd_status)
    s.add_argument("--path", default="/healthz")
    s = command("jshell", cmd_jshell, site=False)
    s.add_argument("file")
    s.add_argument("keys", nargs="+")
    s = command("post-stats", cmd_post_stats, site=False)
    s.add_argument("file")
    s = command("count-sqlite", cmd_count_sqlite, site=False)
    s.add_argument("--db", required=True)
    s.add_argument("--slug", required=True)
    s = command("search-check", cmd_search_check)
    s.add_argument("--db", required=True, help="the big site's SQLite file")
    s.add_argument("--queries-out", required=True)
    s = command("search-stats", cmd_search_stats, site=False)
    s.add_argument("file")
    s = command("wrk-parse", cmd_wrk_parse, site=False)
    s.add_argument("file")
    s = command("jget", cmd_jget, site=False)
    s.add_argument("file")
    s.add_argument("key")
    s.add_argument("--default")
    s = command("table", cmd_table, site=False)
    s.add_argument("--state", required=True)

    args = p.parse_args()
    try:
        args.fn(args)
    except Fail as err:
        print(f"kbench {args.cmd}: {err}", file=sys.stderr)
        sys.exit(1)
    except (OSError, http.client.HTTPException) as err:
        print(f"kbench {args.cmd}: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
