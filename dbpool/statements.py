"""What a statement can leave behind in a session, judged from its text.

``classify(sql)`` answers with bits (0 when the statement, by its text,
cannot change anything that outlives the transaction):

- ``SESSION``: it may change session state (a plain ``SET``, ``SET ROLE``,
  ``LISTEN``, ``PREPARE``, a temp table, a ``WITH HOLD`` cursor, ``DO``, a
  call of a function the classifier does not know, any statement it does
  not recognise);
- ``RUNS_CODE``: a data statement (SELECT, INSERT, UPDATE, DELETE, MERGE,
  COPY, ...) that may run code it does not name: triggers, rules, views,
  column defaults, policies. Whether that is harmless depends on the
  database (see dbpool.tracking), not on the text;
- ``CATALOG``: a statement that may add such code (CREATE, ALTER, DROP, ...);
- ``SEED``: it may have set the random seed, which the plain reset
  (``DISCARD ALL``) keeps: it calls ``setseed()`` or a function the
  classifier does not know, runs code it cannot see (``DO``, ``CALL``,
  ``EXECUTE``, ``LOAD``), or is not understood. Of the statements that are
  SESSION, only ``SET``, ``RESET``, ``LISTEN``, ``PREPARE``, ``DEALLOCATE``
  and ``DISCARD`` cannot run a function, so they alone come without it.

The judgement errs one way only: a statement it cannot prove harmless is
SESSION. It is cached by text, since an application sends the same few
hundred statements over and over.
"""
from __future__ import absolute_import, division, print_function

import re

from dbpool.pycompat import string_types

SESSION = 1
RUNS_CODE = 2
CATALOG = 4
SEED = 8
UNKNOWN = SESSION | SEED  # anything the classifier cannot see into

_CACHE_SIZE = 2048
_NOTHING_TRUSTED = frozenset()
_caches = {_NOTHING_TRUSTED: {}}  # one cache per set of trusted names

# String literals, quoted identifiers, comments and dollar-quoted bodies
# first, so that nothing inside them counts; quoted identifiers become Q,
# everything else a space.
_LITERALS = re.compile(r"""
      (?P<q>"(?:[^"]|"")*")
    | [eE]'(?:[^'\\]|\\.|'')*'
    | '(?:[^']|'')*'
    | \$(?P<tag>[A-Za-z_][A-Za-z_0-9]*)?\$.*?\$(?P=tag)?\$
    | --[^\n]*
    | /\*.*?\*/
""", re.S | re.X)

_FIRST_WORD = re.compile(r'\s*(?:\(\s*)*([A-Za-z]+)')
# A name followed by an opening parenthesis: a call, a type's modifier
# (numeric(10, 2)) or a keyword that takes a parenthesised list.
_CALLS = re.compile(r'([A-Za-z_][A-Za-z_0-9$]*(?:\s*\.\s*(?:[A-Za-z_][A-Za-z_0-9$]*|Q))?|Q)\s*\(')
# INSERT INTO t (columns), COPY t (columns): the table, not a call.
_TABLE_COLUMNS = re.compile(r'\b(?:INTO|COPY)\s+(?:(?:Q|[A-Za-z_][A-Za-z_0-9$]*)\s*\.\s*)?'
                         r'(?:Q|[A-Za-z_][A-Za-z_0-9$]*)(?:\s+(?:AS\s+)?[A-Za-z_][A-Za-z_0-9$]*)?'
                         r'\s*(?=\()', re.I)
_WORD = re.compile(r'[A-Za-z_]+')

# Statements that read or change rows: safe when every call in them is known.
_DATA = frozenset(['select', 'insert', 'update', 'delete', 'with', 'values', 'table',
                   'merge', 'copy', 'explain', 'declare'])
# Statements whose effect ends with the transaction, or that change nothing.
_TRANSACTIONAL = frozenset(['begin', 'start', 'commit', 'end', 'rollback', 'abort',
                            'savepoint', 'release', 'show', 'fetch', 'move', 'close',
                            'lock', 'notify', 'unlisten', 'checkpoint', 'vacuum', 'analyze',
                            'analyse'])
# Words of a query a schema statement runs at once (CREATE TABLE ... AS).
_QUERY_WORDS = frozenset(['select', 'values', 'execute', 'table', 'with'])
# Session statements that run no function: the random seed is safe.
_NO_CALLS = frozenset(['reset', 'listen', 'prepare', 'deallocate', 'discard'])
# Statements that change the schema: not session state, but they may add
# code that data statements run without naming it.
_SCHEMA = frozenset(['create', 'alter', 'drop', 'comment', 'grant', 'revoke', 'truncate',
                     'refresh', 'reindex', 'cluster', 'security', 'import'])

# Words that may stand before a parenthesis without being a call.
_KEYWORDS = frozenset("""
    all and any array as asc between by case cast collate conflict cross cube desc distinct
    do else end except exists explain extract filter for from full group grouping having
    ilike in inner intersect into is join lateral left like limit not nulls offset on only
    or order outer over overlay partition position range recursive returning right rollup
    row rows select set sets similar some substring table then trim union update using values
    when where window with within groups tablesample ordinality materialized matched merge
    insert delete format analyze analyse verbose costs buffers timing summary settings wal
    generic_plan serialize memory check unique primary key references foreign include
    btree hash gist gin spgist brin exclude default constraint also instead notify copy
""".split())

# Built-in functions and type names that change no session state: what
# Django's ORM and contrib apps emit, and the common rest. Anything else,
# a function of the database's own included, counts as SESSION unless the
# pool is told it is harmless (OPTIONS['TRUSTED_FUNCTIONS']).
SAFE_FUNCTIONS = frozenset("""
    abs acos asin atan atan2 avg bit_and bit_or bit_xor bool_and bool_or btrim cbrt ceil
    ceiling char_length character_length chr coalesce concat concat_ws corr cos cot count
    covar_pop covar_samp cume_dist current_date current_setting current_time
    current_timestamp date date_part date_trunc degrees dense_rank div every exp
    first_value floor format greatest initcap lag last_value lead least left length ln
    localtime localtimestamp log log10 lower lpad ltrim md5 min max mod mode now nth_value
    ntile nullif octet_length percent_rank percentile_cont percentile_disc pi power
    radians rank regexp_match regexp_matches regexp_replace regexp_split_to_array
    regexp_split_to_table repeat replace reverse right round row_number rpad rtrim sign sin
    split_part sqrt starts_with stddev stddev_pop stddev_samp string_agg strpos substr sum
    tan timezone to_char to_date to_number to_timestamp translate trunc upper var_pop
    var_samp variance age clock_timestamp statement_timestamp transaction_timestamp
    make_date make_time make_timestamp make_timestamptz make_interval justify_days
    justify_hours justify_interval isfinite array_agg array_append array_cat array_length
    array_lower array_upper array_position array_positions array_prepend array_remove
    array_replace array_to_string string_to_array cardinality unnest generate_series
    json_agg jsonb_agg json_build_object jsonb_build_object json_build_array
    jsonb_build_array json_object_agg jsonb_object_agg to_json to_jsonb row_to_json
    json_array_length jsonb_array_length json_extract_path jsonb_extract_path
    json_extract_path_text jsonb_extract_path_text json_typeof jsonb_typeof jsonb_set
    jsonb_insert jsonb_strip_nulls jsonb_pretty jsonb_path_exists jsonb_path_match
    jsonb_path_query jsonb_path_query_array jsonb_path_query_first json_object
    jsonb_object json_array jsonb_array_elements jsonb_array_elements_text
    json_array_elements json_array_elements_text jsonb_each jsonb_each_text json_each
    json_each_text jsonb_object_keys json_object_keys jsonb_exists jsonb_exists_any
    jsonb_exists_all to_tsvector to_tsquery plainto_tsquery phraseto_tsquery
    websearch_to_tsquery ts_rank ts_rank_cd ts_headline setweight tsvector_to_array
    similarity word_similarity strict_word_similarity gen_random_uuid uuid_generate_v4
    encode decode convert_from convert_to sha224 sha256 sha384 sha512 quote_ident
    quote_literal quote_nullable to_hex ascii bit_length char character varchar numeric
    decimal bit varbit time timestamp timestamptz interval float float4 float8 int int2 int4
    int8 integer smallint bigint boolean bool text bytea uuid json jsonb inet cidr macaddr
    tsvector tsquery point line lseg box path polygon circle daterange tsrange tstzrange
    numrange int4range int8range lower_inc upper_inc lower_inf upper_inf isempty
    range_merge host family masklen network broadcast set_masklen abbrev text_pattern_ops
    random pg_backend_pid pg_is_in_recovery version current_database current_schema
    current_schemas current_user session_user txid_current pg_current_xact_id
    txid_current_if_assigned pg_current_xact_id_if_assigned to_regclass to_regtype
    to_regproc pg_typeof format_type has_table_privilege has_schema_privilege
    has_database_privilege pg_get_serial_sequence pg_get_indexdef pg_get_constraintdef
    pg_get_expr pg_relation_size pg_table_size pg_total_relation_size pg_size_pretty
    pg_database_size obj_description col_description pg_sleep pg_advisory_xact_lock
    pg_advisory_xact_lock_shared pg_try_advisory_xact_lock pg_try_advisory_xact_lock_shared
    nextval currval lastval setval pg_postmaster_start_time pg_listening_channels
    pg_column_size pg_encoding_to_char array_ndims array_dims
    digest hmac crypt gen_salt unaccent geometry geography box2d box3d geometrytype
    pg_table_is_visible pg_type_is_visible pg_function_is_visible pg_get_userbyid
    pg_get_viewdef pg_get_triggerdef pg_get_ruledef pg_get_functiondef array_fill
    json_strip_nulls jsonb_concat row
""".split())
# PostGIS's functions, named by prefix. A database function of the
# application's own with such a name is still caught: data statements are
# only trusted on a database whose own functions are all trusted.
SAFE_PREFIXES = ('st_',)


def classify(sql, trusted=_NOTHING_TRUSTED):
    """The bits above for ``sql`` (text or bytes).

    ``trusted`` (a frozenset of lower-case names) lists functions the
    caller knows to be harmless (OPTIONS['TRUSTED_FUNCTIONS']).
    """
    cache = _caches.get(trusted)
    if cache is None:
        cache = _caches.setdefault(trusted, {})
    try:
        bits = cache.get(sql)
    except TypeError:  # unhashable: not text
        return UNKNOWN
    if bits is None:
        bits = _classify_text(sql, trusted)
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[sql] = bits
    return bits


def _classify_text(sql, trusted):
    if isinstance(sql, bytes) and not isinstance(sql, string_types):
        sql = sql.decode('utf-8', 'replace')
    if not isinstance(sql, string_types):
        return UNKNOWN  # no text to judge
    text = _LITERALS.sub(_literal_mark, sql)
    bits = 0
    for statement in text.split(';'):
        if statement.strip():
            bits |= _classify_statement(statement, trusted)
    return bits


def _literal_mark(match):
    return ' Q ' if match.group('q') else ' '


def _classify_statement(statement, trusted):
    match = _FIRST_WORD.match(statement)
    if match is None:
        return UNKNOWN
    first = match.group(1).lower()
    if first in _TRANSACTIONAL:
        return 0
    if first == 'set':
        return _classify_set(statement)
    if first in _SCHEMA:
        return _classify_schema(statement, trusted)
    if first in _NO_CALLS:
        return SESSION
    if first not in _DATA:
        return UNKNOWN
    words = set(word.lower() for word in _WORD.findall(statement))
    if first == 'declare' and 'hold' in words and 'without' not in words:
        return UNKNOWN  # a WITH HOLD cursor outlives the transaction
    if 'into' in words and first not in ('insert', 'merge'):
        return UNKNOWN  # SELECT ... INTO [TEMP] t makes a table
    if 'temp' in words or 'temporary' in words:
        return UNKNOWN
    if not _calls_are_known(statement, trusted):
        return UNKNOWN
    return RUNS_CODE


def _classify_set(statement):
    words = _WORD.findall(statement)
    second = words[1].lower() if len(words) > 1 else ''
    # SET LOCAL and SET CONSTRAINTS last until the transaction ends;
    # SET TRANSACTION describes the current one. SET SESSION ... and a
    # plain SET stay for the session, even inside a transaction.
    if second in ('local', 'constraints', 'transaction'):
        return 0
    return SESSION


def _classify_schema(statement, trusted):
    words = [word.lower() for word in _WORD.findall(statement)]
    if 'temp' in words[:4] or 'temporary' in words[:4]:
        return UNKNOWN | CATALOG
    if 'as' in words and _QUERY_WORDS.intersection(words) \
            and not _calls_are_known(statement, trusted):
        # CREATE TABLE ... AS SELECT (or EXECUTE) runs its query now: its
        # calls count as a data statement's would.
        return UNKNOWN | CATALOG
    # Event triggers and TRUNCATE triggers run code too.
    return CATALOG | RUNS_CODE


def _calls_are_known(statement, trusted):
    for _ in _unknown_calls(statement, trusted):
        return False
    return True


def _unknown_calls(statement, trusted):
    # 'TABLE (' reads as a keyword and its list, not as a call.
    statement = _TABLE_COLUMNS.sub(' TABLE ', statement)
    for name in _CALLS.findall(statement):
        name = name.lower().replace(' ', '')
        if name.startswith('pg_catalog.'):
            name = name[len('pg_catalog.'):]
        if name in _KEYWORDS or name in SAFE_FUNCTIONS or name in trusted:
            continue
        if name.startswith(SAFE_PREFIXES):
            continue
        yield name


def unknown_calls(text, trusted=_NOTHING_TRUSTED):
    """The names of the functions ``text`` (SQL, or an expression) calls that are not known harmless."""
    return sorted(set(_unknown_calls(_LITERALS.sub(_literal_mark, text), trusted)))
