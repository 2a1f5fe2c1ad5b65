"""What the two ways of searching transcripts share (extensions `message-search`, `session-search`): the
searchable messages of a run as SQL (sql/search_messages_of_run.sql, composed into the search index's extraction
function and into every scan, so what is indexed and what is scanned cannot differ), the query each mode builds,
the hits' order and its cursor condition, the snippet, and one search's parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

from service.storage.list_extras import SQL_FALSE_WORDS
from service.storage.queries import sql_text

MAX_TEXT = 100_000  # characters of one message searched: a tsvector holds at most 1 MB, whatever the text
DEFAULT_CONFIG = "simple"
INDEX, SCAN = "index", "scan"

# The query each mode builds from the text %(q)s under %(config)s. Prefix: every word of q as the configuration
# normalises it, each matching as a prefix; the lexemes are quoted for tsquery's own syntax (a quote doubled, a
# backslash escaped), so no character of q is ever read as an operator.
TSQUERY = {
    "words": "plainto_tsquery(%(config)s::regconfig, %(q)s)",
    "phrase": "phraseto_tsquery(%(config)s::regconfig, %(q)s)",
    "prefix": "(SELECT COALESCE(string_agg('''' || replace(replace(t.lexeme, '\\', '\\\\'), '''', '''''') || "
              "''':*', ' & ' ORDER BY t.lexeme), '')::tsquery "
              "FROM unnest(to_tsvector(%(config)s::regconfig, %(q)s)) t)",
}
MODES = tuple(TSQUERY)
FILTERS = ("session_type", "component_id", "user_id", "role", "created_after", "created_before")
# A search matching more messages than this is answered newest first (ORDERS' "recent"), not by relevance: ranking
# reads every match (some 8 µs each at 1M sessions), reading newest first stops at the page. The first page decides
# (counting matches up to it) and its cursor keeps the order for the pages after it.
MAX_RANKED = 10_000
# A first page whose matches the planner estimates past this many times MAX_RANKED is answered newest first without
# counting them (counting reads the GIN index's whole posting list: some 170 ms for a million matches); below it
# the matches are counted up to the cap, so a word the statistics underestimate still comes newest first.
ESTIMATED_BROAD = 2
RELEVANCE, RECENT = "relevance", "recent"
ORDERS = (RELEVANCE, RECENT)
# The hits CTE of search_messages.sql for each order: by relevance over every match (`found`), newest first
# (search_recent.sql's `recent`), or, on a first page (None), the first by counting matches up to the cap.
HITS = {
    RELEVANCE: "hits AS (SELECT *, 'relevance'::text AS ordered_by FROM found {after}\n"
               "    ORDER BY rank DESC, created_at DESC, session_id, run_id, position LIMIT %(limit)s)",
    RECENT: "{recent},\nhits AS (SELECT *, 'recent'::text AS ordered_by FROM recent\n"
            "    ORDER BY created_at DESC, session_id, run_id, position LIMIT %(limit)s)",
    None: "probe AS MATERIALIZED (SELECT * FROM found LIMIT %(max_ranked)s + 1),\n{recent},\n"
          "hits AS (SELECT * FROM (SELECT *, 'relevance'::text AS ordered_by FROM probe\n"
          "    ORDER BY rank DESC, created_at DESC, session_id, run_id, position LIMIT %(limit)s) r\n"
          "  WHERE (SELECT count(*) FROM probe) <= %(max_ranked)s\n"
          "  UNION ALL\n"
          "  SELECT * FROM (SELECT *, 'recent'::text AS ordered_by FROM recent\n"
          "    ORDER BY created_at DESC, session_id, run_id, position LIMIT %(limit)s) n\n"
          "  WHERE (SELECT count(*) FROM probe) > %(max_ranked)s)",
}
# The rows after a cursor's hit in the hits' order (rank desc, created_at desc, session_id, run_id, position).
AFTER = sql.SQL("WHERE rank < %(after_rank)s::real OR (rank = %(after_rank)s::real AND (created_at < %(after_at)s "
                "OR (created_at = %(after_at)s AND (session_id, run_id, position) > "
                "(%(after_session)s::text, %(after_run)s::text, %(after_position)s::int))))")
# The same in the newest-first order (created_at desc, session_id, run_id, position), on the columns of the alias
# `{p}` (the index's row `h.`, or the queued runs' plain names).
AFTER_RECENT = ("({p}created_at < %(after_at)s OR ({p}created_at = %(after_at)s AND ({p}session_id, {p}run_id, "
                "{p}position) > (%(after_session)s::text, %(after_run)s::text, %(after_position)s::int)))")
# ts_headline's options: chr(1)/chr(2) around matches (rules/render/search.py marks and escapes them).
HEADLINE = sql.SQL("'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxFragments=2, MaxWords=24, "
                   "MinWords=8, FragmentDelimiter=\" … \"'")


@dataclass(frozen=True)
class Search:
    """One search: the text, how it matches (`mode`), the filters given (FILTERS' names; None: not given), the text
    search configuration, and the page: `limit` hits after `after` (a hit's position, None: from the first)."""

    q: str
    mode: str
    filters: dict[str, Any]
    config: str
    limit: int
    after: dict[str, Any] | None = None
    order: str | None = None  # RELEVANCE or RECENT (a cursor's), None: the first page decides (MAX_RANKED)

    def params(self) -> dict[str, Any]:
        """The statement's parameters (either way): limit + 1 rows, the extra one saying another page follows."""
        params: dict[str, Any] = {"q": self.q, "config": self.config, "limit": self.limit + 1,
                                  "max_ranked": MAX_RANKED, "order": self.order,
                                  **{k: v for k, v in self.filters.items() if v is not None}}
        if self.after is not None:
            params |= {"after_rank": self.after["rank"], "after_at": self.after["created_at"],
                       "after_session": self.after["session_id"], "after_run": self.after["run_id"],
                       "after_position": self.after["position"]}
        return params

    def fragments(self, conditions: dict[str, str]) -> dict[str, sql.Composable]:
        """The query by mode, the filters' conditions (`conditions`: each filter's SQL on this way's aliases), the
        cursor condition and the snippet options."""
        given = "".join(f"\n      AND {conditions[name]}" for name in FILTERS if self.filters.get(name) is not None)
        paged = self.after is not None
        return {"tsquery": sql.SQL(TSQUERY[self.mode]), "conditions": sql.SQL(given),
                "after": AFTER if paged else sql.SQL(""), "headline": HEADLINE, "max_text": sql.Literal(MAX_TEXT),
                "after_recent": sql.SQL("WHERE " + AFTER_RECENT.format(p="") if paged else ""),
                "after_recent_h": sql.SQL("AND " + AFTER_RECENT.format(p="h.") if paged else "")}


def messages_of_run(run_data: sql.Composable, run_created_at: sql.Composable) -> sql.Composable:
    """The lateral subquery of the messages chat_history shows of the run `run_data` (created at `run_created_at`):
    position, message_id, role, created_at, body (agno's text of it)."""
    words = sql.SQL(", ").join(sql.Literal(word) for word in SQL_FALSE_WORDS)
    return sql.SQL(sql_text("search_messages_of_run")).format(false_words=words, run_data=run_data,
                                                              run_created_at=run_created_at)
