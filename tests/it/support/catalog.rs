//! Catalog snapshots for role tests: who owns what, who may do what.
//!
//! Each snapshot is a sorted `Vec<String>`, one line per fact, so a test can
//! compare a restored database with its original (or with the exact lines it
//! expects) with one `assert_eq!`. Objects are named by
//! `pg_identify_object` (always schema-qualified and quoted), roles by
//! `quote_ident`, the public pseudo-role as `PUBLIC`.
//!
//! Per-database snapshots cover the objects users create (OID at or past
//! 16384, plus the `public` schema), leave out extension members (a restore
//! recreates those from the extension script), and leave out the database
//! object itself, whose name differs between a database and its restore; it
//! is in the cluster snapshots with the tablespaces.

use super::server::{Server, Version};

/// Set before every snapshot query so the text does not depend on session
/// settings.
const PRELUDE: &str =
    "SET search_path = pg_catalog; SET timezone = 'UTC'; SET datestyle = 'ISO, YMD';\n";

/// Keep user objects only: `o` must have columns `classid` and `objid`.
const USER_OBJECT: &str = "(o.objid >= 16384 OR (o.classid = 'pg_namespace'::regclass AND o.objid = 'public'::regnamespace))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = o.classid AND d.objid = o.objid AND d.deptype = 'e')";

/// SQL naming a role OID (0 = PUBLIC).
fn role(expr: &str) -> String {
    format!("CASE WHEN {expr} = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid({expr})) END")
}

impl Server {
    fn snapshot(&self, db: &str, sql: &str) -> Vec<String> {
        self.lines(db, &format!("{PRELUDE}{sql}"))
    }

    /// Owners of the user objects of `db`: `"<type> <identity>: <owner>"`,
    /// e.g. `table app.t1: alice`, `type app.mood: "Bob Smith"`,
    /// `large object 424242: alice`. Covers relations (not indexes or TOAST
    /// tables), functions, types (not arrays or table row types), schemas,
    /// large objects, operators, operator families and classes, collations,
    /// conversions, text search configurations and dictionaries, extended
    /// statistics, foreign-data wrappers, foreign servers, event triggers,
    /// publications, the database's subscriptions, languages and extensions.
    pub fn owners(&self, db: &str) -> Vec<String> {
        let sql = format!(
            "WITH o(classid, objid, owner) AS (
  SELECT 'pg_class'::regclass, oid, relowner FROM pg_class WHERE relkind NOT IN ('i', 'I', 't')
  UNION ALL SELECT 'pg_proc'::regclass, oid, proowner FROM pg_proc
  UNION ALL SELECT 'pg_type'::regclass, oid, typowner FROM pg_type WHERE typcategory <> 'A' AND typrelid = 0
  UNION ALL SELECT 'pg_namespace'::regclass, oid, nspowner FROM pg_namespace WHERE nspname !~ '^pg_'
  UNION ALL SELECT 'pg_largeobject'::regclass, oid, lomowner FROM pg_largeobject_metadata
  UNION ALL SELECT 'pg_operator'::regclass, oid, oprowner FROM pg_operator
  UNION ALL SELECT 'pg_opfamily'::regclass, oid, opfowner FROM pg_opfamily
  UNION ALL SELECT 'pg_opclass'::regclass, oid, opcowner FROM pg_opclass
  UNION ALL SELECT 'pg_collation'::regclass, oid, collowner FROM pg_collation
  UNION ALL SELECT 'pg_conversion'::regclass, oid, conowner FROM pg_conversion
  UNION ALL SELECT 'pg_ts_config'::regclass, oid, cfgowner FROM pg_ts_config
  UNION ALL SELECT 'pg_ts_dict'::regclass, oid, dictowner FROM pg_ts_dict
  UNION ALL SELECT 'pg_statistic_ext'::regclass, oid, stxowner FROM pg_statistic_ext
  UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, oid, fdwowner FROM pg_foreign_data_wrapper
  UNION ALL SELECT 'pg_foreign_server'::regclass, oid, srvowner FROM pg_foreign_server
  UNION ALL SELECT 'pg_event_trigger'::regclass, oid, evtowner FROM pg_event_trigger
  UNION ALL SELECT 'pg_publication'::regclass, oid, pubowner FROM pg_publication
  UNION ALL SELECT 'pg_subscription'::regclass, oid, subowner FROM pg_subscription
    WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL SELECT 'pg_language'::regclass, oid, lanowner FROM pg_language
  UNION ALL SELECT 'pg_extension'::regclass, oid, extowner FROM pg_extension
)
SELECT i.type || ' ' || i.identity || ': ' || quote_ident(pg_get_userbyid(o.owner))
FROM o, LATERAL pg_identify_object(o.classid, o.objid, 0) i
WHERE {USER_OBJECT}"
        );
        self.snapshot(db, &sql)
    }

    /// Privileges granted on the user objects of `db`, one line per grant:
    /// `"<type> <identity>: <grantee> <PRIVILEGE>[ WITH GRANT OPTION] (grantor <role>)"`,
    /// e.g. `table app.t1: readers SELECT (grantor alice)`,
    /// `table column app.t1.name: "Bob Smith" SELECT (grantor alice)`.
    /// An object whose ACL is empty (every privilege revoked, even the
    /// owner's) gives one line `"<type> <identity>: (none)"`; objects with
    /// default privileges (a NULL ACL) give none.
    pub fn acls(&self, db: &str) -> Vec<String> {
        let sql = format!(
            "WITH o(classid, objid, subid, acl) AS (
  SELECT 'pg_class'::regclass, oid, 0, relacl FROM pg_class WHERE relacl IS NOT NULL
  UNION ALL SELECT 'pg_class'::regclass, attrelid, attnum::int, attacl FROM pg_attribute WHERE attacl IS NOT NULL
  UNION ALL SELECT 'pg_proc'::regclass, oid, 0, proacl FROM pg_proc WHERE proacl IS NOT NULL
  UNION ALL SELECT 'pg_type'::regclass, oid, 0, typacl FROM pg_type WHERE typacl IS NOT NULL
  UNION ALL SELECT 'pg_namespace'::regclass, oid, 0, nspacl FROM pg_namespace
    WHERE nspacl IS NOT NULL AND nspname !~ '^pg_'
  UNION ALL SELECT 'pg_largeobject'::regclass, oid, 0, lomacl FROM pg_largeobject_metadata WHERE lomacl IS NOT NULL
  UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, oid, 0, fdwacl FROM pg_foreign_data_wrapper WHERE fdwacl IS NOT NULL
  UNION ALL SELECT 'pg_foreign_server'::regclass, oid, 0, srvacl FROM pg_foreign_server WHERE srvacl IS NOT NULL
  UNION ALL SELECT 'pg_language'::regclass, oid, 0, lanacl FROM pg_language WHERE lanacl IS NOT NULL
)
SELECT i.type || ' ' || i.identity || ': ' || coalesce(
  {grantee} || ' ' || e.privilege_type
    || CASE WHEN e.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
    || ' (grantor ' || {grantor} || ')',
  '(none)')
FROM o
CROSS JOIN LATERAL pg_identify_object(o.classid, o.objid, o.subid) i
LEFT JOIN LATERAL aclexplode(o.acl) e ON true
WHERE {USER_OBJECT}",
            grantee = role("e.grantee"),
            grantor = role("e.grantor"),
        );
        self.snapshot(db, &sql)
    }

    /// Default privileges (`ALTER DEFAULT PRIVILEGES`) of `db`, one line per
    /// grant: `"for role <role>[ in schema <schema>] on <kind>: <grantee> <PRIVILEGE>…"`,
    /// e.g. `for role alice in schema app on tables: readers SELECT (grantor alice)`;
    /// an entry that grants nothing gives `"…: (none)"`.
    pub fn default_acls(&self, db: &str) -> Vec<String> {
        let sql = format!(
            "SELECT 'for role ' || quote_ident(pg_get_userbyid(d.defaclrole))
  || coalesce(' in schema ' || quote_ident(n.nspname), '')
  || ' on ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
       WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas'
       WHEN 'L' THEN 'large objects' ELSE d.defaclobjtype::text END
  || ': ' || coalesce(
    {grantee} || ' ' || e.privilege_type
      || CASE WHEN e.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
      || ' (grantor ' || {grantor} || ')',
    '(none)')
FROM pg_default_acl d
LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
LEFT JOIN LATERAL aclexplode(d.defaclacl) e ON true",
            grantee = role("e.grantee"),
            grantor = role("e.grantor"),
        );
        self.snapshot(db, &sql)
    }

    /// The roles of every row-level security policy of `db`, one line per
    /// role: `"<policy> on <table> <COMMAND>[ RESTRICTIVE] to <role>"`, e.g.
    /// `pol1 on app.t1 SELECT to readers`, `pol2 on app.t1 ALL to PUBLIC`.
    pub fn policy_roles(&self, db: &str) -> Vec<String> {
        let sql = format!(
            "SELECT i.identity || ' '
  || CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
       WHEN 'd' THEN 'DELETE' ELSE 'ALL' END
  || CASE WHEN p.polpermissive THEN '' ELSE ' RESTRICTIVE' END
  || ' to ' || {role}
FROM pg_policy p
CROSS JOIN LATERAL pg_identify_object('pg_policy'::regclass, p.oid, 0) i
CROSS JOIN LATERAL unnest(p.polroles) r",
            role = role("r"),
        );
        self.snapshot(db, &sql)
    }

    /// User mappings of `db`: `"server <server> for <role>[ options <k=v,…>]"`
    /// (options sorted), e.g. `server srv1 for "Bob Smith" options password=pw,user=bob`,
    /// `server srv1 for PUBLIC`.
    pub fn user_mappings(&self, db: &str) -> Vec<String> {
        let sql = format!(
            "SELECT 'server ' || quote_ident(s.srvname) || ' for ' || {role}
  || coalesce(' options ' || (SELECT string_agg(opt, ',' ORDER BY opt) FROM unnest(u.umoptions) opt), '')
FROM pg_user_mapping u JOIN pg_foreign_server s ON s.oid = u.umserver",
            role = role("u.umuser"),
        );
        self.snapshot(db, &sql)
    }

    /// Comments on the user objects of `db` and on its roles, tablespaces and
    /// databases: `"<type> <identity>: <comment>"`.
    pub fn comments(&self, db: &str) -> Vec<String> {
        let sql = format!(
            "WITH o(classid, objid, subid, comment) AS (
  SELECT classoid, objoid, objsubid, description FROM pg_description
  UNION ALL SELECT classoid, objoid, 0, description FROM pg_shdescription
)
SELECT i.type || ' ' || i.identity || ': ' || o.comment
FROM o CROSS JOIN LATERAL pg_identify_object(o.classid, o.objid, o.subid) i
WHERE {USER_OBJECT}"
        );
        self.snapshot(db, &sql)
    }

    /// Roles created by users (not the bootstrap superuser or the built-in
    /// `pg_*` roles) with their attributes:
    /// `"<role> [SUPERUSER] [NOINHERIT] [CREATEROLE] [CREATEDB] [LOGIN] [REPLICATION] [BYPASSRLS] [CONNECTION LIMIT n] [VALID UNTIL 'ts'] [PASSWORD]"`,
    /// e.g. `alice LOGIN CONNECTION LIMIT 5 VALID UNTIL '2030-01-01 00:00:00+00' PASSWORD`.
    pub fn roles(&self) -> Vec<String> {
        let sql = "SELECT concat_ws(' ', quote_ident(rolname),
  CASE WHEN rolsuper THEN 'SUPERUSER' END,
  CASE WHEN NOT rolinherit THEN 'NOINHERIT' END,
  CASE WHEN rolcreaterole THEN 'CREATEROLE' END,
  CASE WHEN rolcreatedb THEN 'CREATEDB' END,
  CASE WHEN rolcanlogin THEN 'LOGIN' END,
  CASE WHEN rolreplication THEN 'REPLICATION' END,
  CASE WHEN rolbypassrls THEN 'BYPASSRLS' END,
  CASE WHEN rolconnlimit <> -1 THEN 'CONNECTION LIMIT ' || rolconnlimit END,
  CASE WHEN rolvaliduntil IS NOT NULL THEN 'VALID UNTIL ' || quote_literal(rolvaliduntil::text) END,
  CASE WHEN rolpassword IS NOT NULL THEN 'PASSWORD' END)
FROM pg_authid WHERE oid >= 16384";
        self.snapshot("postgres", sql)
    }

    /// Role memberships, except those among built-in roles:
    /// `"<role> to <member>[ WITH ADMIN] granted by <grantor>"`, and on 16
    /// and later also `" inherit <t|f> set <t|f>"` after `WITH ADMIN`,
    /// e.g. `readers to "Bob Smith" WITH ADMIN granted by postgres`.
    pub fn memberships(&self) -> Vec<String> {
        let options = match self.version() {
            Version::V13 | Version::V15 => "",
            _ => "|| ' inherit ' || inherit_option || ' set ' || set_option",
        };
        let sql = format!(
            "SELECT quote_ident(pg_get_userbyid(roleid)) || ' to ' || quote_ident(pg_get_userbyid(member))
  || CASE WHEN admin_option THEN ' WITH ADMIN' ELSE '' END {options}
  || ' granted by ' || {grantor}
FROM pg_auth_members WHERE roleid >= 16384 OR member >= 16384",
            grantor = role("grantor"),
        );
        self.snapshot("postgres", &sql)
    }

    /// Role and database settings (`ALTER ROLE … SET`, `ALTER ROLE … IN
    /// DATABASE … SET`, `ALTER DATABASE … SET`), one line per setting:
    /// `"role <role>[ in database <db>]: <name>=<value>"` or
    /// `"all roles in database <db>: <name>=<value>"`, e.g.
    /// `role alice: search_path=public, app`.
    pub fn role_settings(&self) -> Vec<String> {
        let sql = "SELECT CASE WHEN s.setrole = 0 THEN 'all roles'
    ELSE 'role ' || quote_ident(pg_get_userbyid(s.setrole)) END
  || CASE WHEN s.setdatabase = 0 THEN '' ELSE ' in database ' || quote_ident(d.datname) END
  || ': ' || c
FROM pg_db_role_setting s
LEFT JOIN pg_database d ON d.oid = s.setdatabase
CROSS JOIN LATERAL unnest(s.setconfig) c";
        self.snapshot("postgres", sql)
    }

    /// Owners of the databases and tablespaces users created:
    /// `"database db1: alice"`, `"tablespace ts1: alice"`.
    pub fn cluster_owners(&self) -> Vec<String> {
        let sql = "SELECT 'database ' || quote_ident(datname) || ': ' || quote_ident(pg_get_userbyid(datdba))
  FROM pg_database WHERE oid >= 16384
UNION ALL
SELECT 'tablespace ' || quote_ident(spcname) || ': ' || quote_ident(pg_get_userbyid(spcowner))
  FROM pg_tablespace WHERE oid >= 16384";
        self.snapshot("postgres", sql)
    }

    /// Privileges on databases (the user-created ones, and `postgres` and
    /// `template1` when changed), tablespaces and configuration parameters,
    /// in the format of [`Server::acls`]: e.g.
    /// `database db1: readers CONNECT (grantor alice)`.
    pub fn cluster_acls(&self) -> Vec<String> {
        let sql = format!(
            "WITH o(kind, name, acl) AS (
  SELECT 'database', quote_ident(datname), datacl FROM pg_database
    WHERE datacl IS NOT NULL AND (oid >= 16384 OR datname IN ('postgres', 'template1'))
  UNION ALL SELECT 'tablespace', quote_ident(spcname), spcacl FROM pg_tablespace WHERE spcacl IS NOT NULL
  UNION ALL SELECT 'parameter', parname, paracl FROM pg_parameter_acl WHERE paracl IS NOT NULL
)
SELECT o.kind || ' ' || o.name || ': ' || coalesce(
  {grantee} || ' ' || e.privilege_type
    || CASE WHEN e.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
    || ' (grantor ' || {grantor} || ')',
  '(none)')
FROM o LEFT JOIN LATERAL aclexplode(o.acl) e ON true",
            grantee = role("e.grantee"),
            grantor = role("e.grantor"),
        );
        self.snapshot("postgres", &sql)
    }
}
