//! Migrations round-trip, and the two backends keep one schema: every migration runs up, down
//! and up again with the schema compared before and after, on the backend under test; and when
//! PostgreSQL is under test, its schema is compared with SQLite's (same tables, columns, types,
//! nullability and indexes), so the two folders of migrations cannot drift apart.

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use diesel::sql_types::{Integer, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use diesel_migrations::MigrationHarness;

use crate::helpers::{fresh_database, on_postgres};

/// A table as both backends can describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Table {
    /// name -> (portable type, nullable)
    columns: BTreeMap<String, (String, bool)>,
    /// index name -> (unique, columns in order); primary keys are not listed here.
    indexes: BTreeMap<String, (bool, Vec<String>)>,
}

type Schema = BTreeMap<String, Table>;

/// The names both databases give the same portable types.
fn portable(sql_type: &str) -> String {
    let t = sql_type.to_ascii_lowercase();
    match t.as_str() {
        "text" | "character varying" | "varchar" => "text",
        "integer" | "int4" | "int" => "integer",
        "bigint" | "int8" => "bigint",
        "boolean" | "bool" => "boolean",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "date" => "date",
        "bytea" | "blob" | "binary" => "binary",
        "double precision" | "real" | "float8" | "double" => "double",
        other => return other.to_owned(),
    }
    .to_owned()
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    r#type: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    unique: i32,
    #[diesel(sql_type = Text)]
    origin: String,
}

fn sqlite_schema(conn: &mut SqliteConnection) -> Schema {
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '__diesel_schema_migrations' ORDER BY name",
    )
    .load(conn)
    .expect("tables");
    let mut schema = Schema::new();
    for t in tables {
        let columns: Vec<SqliteColumn> = diesel::sql_query(format!(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info('{}')",
            t.name
        ))
        .load(conn)
        .expect("columns");
        let indexes: Vec<SqliteIndex> = diesel::sql_query(format!(
            "SELECT name, \"unique\", origin FROM pragma_index_list('{}')",
            t.name
        ))
        .load(conn)
        .expect("indexes");
        let mut table = Table {
            // A primary key column is never null, whatever SQLite's table_info says.
            columns: columns
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        (portable(&c.r#type), c.notnull == 0 && c.pk == 0),
                    )
                })
                .collect(),
            indexes: BTreeMap::new(),
        };
        for i in indexes.iter().filter(|i| i.origin != "pk") {
            let cols: Vec<Name> = diesel::sql_query(format!(
                "SELECT name FROM pragma_index_info('{}') ORDER BY seqno",
                i.name
            ))
            .load(conn)
            .expect("index columns");
            // Unique constraints get names of SQLite's choosing: key them by their columns.
            let key = if i.origin == "u" {
                format!(
                    "unique({})",
                    cols.iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                )
            } else {
                i.name.clone()
            };
            table.indexes.insert(
                key,
                (i.unique != 0, cols.into_iter().map(|c| c.name).collect()),
            );
        }
        schema.insert(t.name, table);
    }
    schema
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    is_unique: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    is_constraint: bool,
    #[diesel(sql_type = Text)]
    columns: String,
}

fn pg_schema(conn: &mut PgConnection) -> Schema {
    let columns: Vec<PgColumn> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public' \
         AND table_name <> '__diesel_schema_migrations' ORDER BY table_name, ordinal_position",
    )
    .load(conn)
    .expect("columns");
    let indexes: Vec<PgIndex> = diesel::sql_query(
        "SELECT t.relname::text AS table_name, i.relname::text AS index_name, \
                x.indisunique AS is_unique, \
                EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid AND c.contype = 'u') AS is_constraint, \
                string_agg(a.attname, ',' ORDER BY k.n) AS columns \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace s ON s.oid = t.relnamespace AND s.nspname = 'public' \
         CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE NOT x.indisprimary AND t.relname <> '__diesel_schema_migrations' \
         GROUP BY t.relname, i.relname, x.indisunique, i.oid",
    )
    .load(conn)
    .expect("indexes");
    let mut schema = Schema::new();
    for c in columns {
        schema
            .entry(c.table_name)
            .or_insert_with(|| Table {
                columns: BTreeMap::new(),
                indexes: BTreeMap::new(),
            })
            .columns
            .insert(
                c.column_name,
                (portable(&c.data_type), c.is_nullable == "YES"),
            );
    }
    for i in indexes {
        let cols: Vec<String> = i.columns.split(',').map(str::to_owned).collect();
        let key = if i.is_constraint {
            format!("unique({})", cols.join(","))
        } else {
            i.index_name
        };
        if let Some(t) = schema.get_mut(&i.table_name) {
            t.indexes.insert(key, (i.is_unique, cols));
        }
    }
    schema
}

/// The triggers (with their tables) and, on PostgreSQL, the functions the migrations made:
/// these keep the report's counts beside the records, and down must take them away too.
fn sqlite_triggers(conn: &mut SqliteConnection) -> Vec<String> {
    let rows: Vec<Name> = diesel::sql_query(
        "SELECT name || ' on ' || tbl_name AS name FROM sqlite_master WHERE type = 'trigger' \
         ORDER BY name",
    )
    .load(conn)
    .expect("triggers");
    rows.into_iter().map(|r| r.name).collect()
}

fn pg_triggers(conn: &mut PgConnection) -> Vec<String> {
    let rows: Vec<Name> = diesel::sql_query(
        "SELECT DISTINCT trigger_name::text || ' on ' || event_object_table::text AS name \
         FROM information_schema.triggers WHERE trigger_schema = 'public' \
         UNION SELECT 'function ' || p.proname::text AS name FROM pg_proc p \
         JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' \
         ORDER BY name",
    )
    .load(conn)
    .expect("triggers");
    rows.into_iter().map(|r| r.name).collect()
}

fn assert_triggers_round_trip(before: &[String], emptied: &[String], after: &[String]) {
    assert!(
        before.iter().any(|t| t.contains("attendance")),
        "the migrations keep counts beside attendance: {before:?}"
    );
    assert!(
        emptied.is_empty(),
        "down removes every trigger: {emptied:?}"
    );
    assert_eq!(
        before, after,
        "up, down and up again gives the same triggers"
    );
}

fn assert_round_trip(before: &Schema, emptied: &Schema, after: &Schema) {
    assert!(!before.is_empty(), "the migrations made tables");
    assert!(emptied.is_empty(), "down removes every table: {emptied:#?}");
    assert_eq!(before, after, "up, down and up again gives the same schema");
}

#[test]
fn every_migration_runs_up_down_and_up_again_to_the_same_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, _db) = fresh_database(dir.path());
    if on_postgres() {
        let mut conn = PgConnection::establish(&url).expect("connect");
        let m = || coproduce::db::POSTGRES_MIGRATIONS;
        conn.run_pending_migrations(m()).expect("up");
        let before = pg_schema(&mut conn);
        let triggers = pg_triggers(&mut conn);
        conn.revert_all_migrations(m()).expect("down");
        let emptied = pg_schema(&mut conn);
        let no_triggers = pg_triggers(&mut conn);
        conn.run_pending_migrations(m()).expect("up again");
        assert_round_trip(&before, &emptied, &pg_schema(&mut conn));
        assert_triggers_round_trip(&triggers, &no_triggers, &pg_triggers(&mut conn));
    } else {
        let path = url.trim_start_matches("sqlite://").to_owned();
        let mut conn = SqliteConnection::establish(&path).expect("connect");
        conn.batch_execute("PRAGMA foreign_keys = ON")
            .expect("pragma");
        let m = || coproduce::db::SQLITE_MIGRATIONS;
        conn.run_pending_migrations(m()).expect("up");
        let before = sqlite_schema(&mut conn);
        let triggers = sqlite_triggers(&mut conn);
        conn.revert_all_migrations(m()).expect("down");
        let emptied = sqlite_schema(&mut conn);
        let no_triggers = sqlite_triggers(&mut conn);
        conn.run_pending_migrations(m()).expect("up again");
        assert_round_trip(&before, &emptied, &sqlite_schema(&mut conn));
        assert_triggers_round_trip(&triggers, &no_triggers, &sqlite_triggers(&mut conn));
    }
}

#[test]
fn both_backends_have_the_same_tables_columns_and_indexes() {
    if !on_postgres() {
        // Needs both databases in one run: the PostgreSQL run of the suite checks it.
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, _db) = fresh_database(dir.path());
    let mut pg = PgConnection::establish(&url).expect("connect");
    pg.run_pending_migrations(coproduce::db::POSTGRES_MIGRATIONS)
        .expect("up");
    let path = dir.path().join("compare.db");
    let mut lite = SqliteConnection::establish(&path.display().to_string()).expect("open");
    lite.run_pending_migrations(coproduce::db::SQLITE_MIGRATIONS)
        .expect("up");
    let (pg_tables, lite_tables) = (pg_schema(&mut pg), sqlite_schema(&mut lite));
    assert_eq!(
        pg_tables.keys().collect::<Vec<_>>(),
        lite_tables.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (name, table) in &pg_tables {
        assert_eq!(
            Some(table),
            lite_tables.get(name),
            "table {name}: PostgreSQL, then SQLite"
        );
    }
    let indexes: usize = pg_tables.values().map(|t| t.indexes.len()).sum();
    assert!(indexes >= 10, "indexes are compared too ({indexes})");

    // The comparison sees a drift: one index fewer on one side.
    let (table, index) = pg_tables
        .iter()
        .find_map(|(t, v)| {
            v.indexes
                .keys()
                .find(|k| !k.starts_with("unique("))
                .map(|i| (t.clone(), i.clone()))
        })
        .expect("a plain index");
    lite.batch_execute(&format!("DROP INDEX \"{index}\""))
        .expect("drop");
    assert_ne!(pg_tables.get(&table), sqlite_schema(&mut lite).get(&table));
}

/// Rows written before participants were registered records, as the earlier schema held them.
const BEFORE_PARTICIPANTS: &str = "
    INSERT INTO organisations (id, name, kinds, created_at, updated_at, version)
        VALUES ('o1', 'Camden Recovery Network', ',provider,', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1);
    INSERT INTO opportunities (id, organisation_id, title, description, kind, claimed_mode, status,
        format, paid, support_offered, lived_experience_areas, for_carers, admission, created_at, updated_at)
        VALUES ('w1', 'o1', 'Panel', 'Plan it', 'workshop', 'involvement', 'running', 'hybrid', FALSE,
            ',', ',', FALSE, 'first_come', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
               ('w2', 'o1', 'Board', 'Run it', 'board', 'involvement', 'running', 'hybrid', FALSE,
            ',', ',', FALSE, 'first_come', '2026-01-01 00:00:00', '2026-01-01 00:00:00');
    INSERT INTO memberships (id, opportunity_id, participant_id, role, experience, status, created_at)
        VALUES ('m1', 'w1', 'pa', 'member', 'lived_experience', 'accepted', '2026-01-02 00:00:00'),
               ('m2', 'w2', 'pa', 'member', 'carer', 'accepted', '2026-01-03 00:00:00'),
               ('m3', 'w1', 'pb', 'member', 'none', 'accepted', '2026-01-02 00:00:00');
    INSERT INTO sessions (id, opportunity_id, starts_at, duration_minutes, format, lived_experience_agenda_slot, created_at)
        VALUES ('s1', 'w1', '2026-01-05 10:00:00', 60, 'hybrid', TRUE, '2026-01-05 00:00:00');
    INSERT INTO attendance (id, session_id, membership_id, participant_id, minutes, participation, recorded_at)
        VALUES ('a1', 's1', 'm1', 'pa', 60, 'participated', '2026-01-05 11:00:00');
";

const REGISTERED: &str =
    "SELECT id || ':' || organisation_id || ':' || roles AS t FROM participants ORDER BY id";

/// Applies the first two migrations, writes the old rows, then the rest; a membership naming
/// nobody registered is refused afterwards.
fn carry_over<C>(conn: &mut C, migrations: fn() -> diesel_migrations::EmbeddedMigrations)
where
    C: Connection + MigrationHarness<<C as Connection>::Backend>,
{
    conn.run_next_migration(migrations()).expect("base");
    conn.run_next_migration(migrations())
        .expect("opportunities");
    conn.batch_execute(BEFORE_PARTICIPANTS).expect("old rows");
    conn.run_pending_migrations(migrations()).expect("the rest");
    conn.batch_execute(
        "INSERT INTO memberships (id, opportunity_id, participant_id, role, experience, status, created_at) \
         VALUES ('m9', 'w2', 'nobody', 'member', 'none', 'applied', '2026-01-02 00:00:00')",
    )
    .expect_err("a membership must name a registered participant");
}

#[test]
fn everyone_named_by_a_membership_becomes_a_registered_participant_with_the_roles_they_had() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, _db) = fresh_database(dir.path());
    if on_postgres() {
        let mut conn = PgConnection::establish(&url).expect("connect");
        carry_over(&mut conn, || coproduce::db::POSTGRES_MIGRATIONS);
    } else {
        let path = url.trim_start_matches("sqlite://").to_owned();
        let mut conn = SqliteConnection::establish(&path).expect("connect");
        conn.batch_execute("PRAGMA foreign_keys = ON")
            .expect("pragma");
        carry_over(&mut conn, || coproduce::db::SQLITE_MIGRATIONS);
    }
    assert_eq!(
        crate::helpers::stored_text(&url, REGISTERED),
        ["pa:o1:,lived_experience,carer,", "pb:o1:,"],
        "one participant each, with every role their memberships stated"
    );
    let kept = crate::helpers::stored_text(
        &url,
        "SELECT id || ':' || participant_id AS t FROM attendance",
    );
    assert_eq!(kept, ["a1:pa"], "attendance is carried over");
}
