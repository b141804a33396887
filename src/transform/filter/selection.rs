//! Selection: which relations, schemas and objects the options keep
//! (`-t`, `-T`, `-n`, `-N`, `-e`, `-b`/`-B`, `--exclude-table-data` and the
//! `-and-children` forms), what goes with a removed table (its children,
//! partitions, views, foreign keys), and where statistics belong (with
//! their relation; an index's with its table).

use super::*;

impl Filter<'_, '_> {
    pub(super) fn mark(&mut self, p: &Pattern) {
        if let Some(h) = self.hits.get_mut(&p.text) {
            *h = true;
        }
    }

    pub(super) fn schema_selected(&mut self, schema: &str) -> bool {
        let o = self.opts;
        for p in &o.exclude_schemas {
            if p.matches_name(schema) {
                self.mark(p);
                return false;
            }
        }
        if o.schemas.is_empty() {
            return true;
        }
        let mut any = false;
        for p in &o.schemas {
            if p.matches_name(schema) {
                self.mark(p);
                any = true;
            }
        }
        any
    }

    /// Whether a relation (table, view, sequence…) is in the output, and
    /// if not, why.
    pub(super) fn rel_fate(&mut self, r: &Rel) -> Option<String> {
        if let Some(owner) = self.owned_seq.get(r).cloned()
            && owner != *r
        {
            return self
                .rel_fate(&owner)
                .map(|why| format!("owned by {}: {why}", rel_text(&owner)));
        }
        if self.excluded.contains(r) {
            return Some(format!("{} was removed", rel_text(r)));
        }
        let o = self.opts;
        // -t ignores -n and -N, as pg_dump's selection does.
        if !o.table_selection() && !self.schema_selected(&r.0) {
            return Some("schema not selected (-n/-N)".to_string());
        }
        let schema = (!r.0.is_empty()).then_some(r.0.as_str());
        for p in o
            .exclude_tables
            .iter()
            .chain(&o.exclude_tables_and_children)
        {
            if p.matches(schema, &r.1) {
                self.mark(p);
                return Some("table excluded (-T)".to_string());
            }
        }
        if let Some(p) = self.ancestor_matching(r, &o.exclude_tables_and_children) {
            return Some(format!(
                "a child of a table excluded by --exclude-table-and-children {}",
                p.text
            ));
        }
        if !o.table_selection() {
            return None;
        }
        let mut any = false;
        for p in o.tables.iter().chain(&o.tables_and_children) {
            if p.matches(schema, &r.1) {
                self.mark(p);
                any = true;
            }
        }
        if any || self.ancestor_matching(r, &o.tables_and_children).is_some() {
            None
        } else {
            Some("table not selected (-t)".to_string())
        }
    }

    /// The first of `patterns` that matches a parent of `r` (a partitioned
    /// table or inheritance parent, at any depth).
    pub(super) fn ancestor_matching<'p>(
        &mut self,
        r: &Rel,
        patterns: &'p [Pattern],
    ) -> Option<&'p Pattern> {
        if patterns.is_empty() {
            return None;
        }
        let mut seen = HashSet::new();
        let mut todo: Vec<Rel> = self.parents.get(r).cloned().unwrap_or_default();
        while let Some(p) = todo.pop() {
            if !seen.insert(p.clone()) {
                continue;
            }
            let schema = (!p.0.is_empty()).then_some(p.0.as_str());
            if let Some(m) = patterns.iter().find(|pat| pat.matches(schema, &p.1)) {
                self.mark(m);
                return Some(m);
            }
            todo.extend(self.parents.get(&p).cloned().unwrap_or_default());
        }
        None
    }

    /// Whether a table's rows (or a sequence's value) are in the output,
    /// and if not, why. `--no-unlogged-table-data` needs the relation's
    /// CREATE in the dump: without it whether it is unlogged is not there.
    pub(super) fn data_fate(&mut self, r: &Rel) -> Result<Option<String>> {
        let o = self.opts;
        if !o.keep_data() {
            return Ok(Some(o.no_data_reason().to_string()));
        }
        if let Some(why) = self.rel_fate(r) {
            return Ok(Some(why));
        }
        let schema = (!r.0.is_empty()).then_some(r.0.as_str());
        for p in o
            .exclude_table_data
            .iter()
            .chain(&o.exclude_table_data_and_children)
        {
            if p.matches(schema, &r.1) {
                self.mark(p);
                return Ok(Some(
                    "table data excluded (--exclude-table-data)".to_string(),
                ));
            }
        }
        if let Some(p) = self.ancestor_matching(r, &o.exclude_table_data_and_children) {
            return Ok(Some(format!(
                "a child of a table whose data is excluded by --exclude-table-data-and-children {}",
                p.text
            )));
        }
        if o.no_unlogged_table_data {
            if self.unlogged.contains(r) {
                return Ok(Some("--no-unlogged-table-data".to_string()));
            }
            if !self.created_relations.contains(r) {
                return Err(Error::runtime(format!(
                    "--no-unlogged-table-data: the dump holds data of {} but not its CREATE, so \
                     whether it is unlogged is not in the dump",
                    rel_text(r)
                ))
                .with_hint(
                    "a data-only dump does not say which tables are unlogged: filter the full dump",
                ));
            }
        }
        Ok(None)
    }

    /// Whether statistics of relation `r` (a table, materialized view or
    /// index) are in the output: with their relation, an index's with its
    /// table, whether or not the relation's rows are.
    pub(super) fn stats_fate(&mut self, r: &Rel) -> Option<String> {
        let o = self.opts;
        if !o.keep_statistics() {
            return Some(o.no_statistics_reason().to_string());
        }
        let owner = self
            .index_table
            .get(r)
            .cloned()
            .unwrap_or_else(|| r.clone());
        self.rel_fate(&owner)
    }

    /// Large objects, their data, owners, comments, privileges and labels:
    /// data to pg_dump, kept with everything else unless `-t`, `-n` or `-e`
    /// narrows the dump (`-b` keeps them all the same, `-B` removes them).
    pub(super) fn lo_fate(&self) -> Option<String> {
        let o = self.opts;
        if !o.keep_data() {
            return Some(o.no_data_reason().to_string());
        }
        if o.large_objects {
            return None;
        }
        if o.no_large_objects {
            return Some("--no-large-objects".to_string());
        }
        self.global_object_fate()
    }

    /// An extension: `--exclude-extension`, then `-e`, then the other
    /// selections.
    pub(super) fn extension_fate(&mut self, name: &str) -> Option<String> {
        let o = self.opts;
        for p in &o.exclude_extensions {
            if p.matches_name(name) {
                self.mark(p);
                return Some("extension excluded (--exclude-extension)".to_string());
            }
        }
        if !o.extensions.is_empty() || !o.extensions_listed.is_empty() {
            let mut any = false;
            for p in o.extensions.iter().chain(&o.extensions_listed) {
                if p.matches_name(name) {
                    self.mark(p);
                    any = true;
                }
            }
            return (!any).then(|| "extension not selected (-e)".to_string());
        }
        self.global_object_fate()
    }

    /// Objects in a schema that are not relations (functions, types…).
    pub(super) fn schema_object_fate(&mut self, schema: Option<&str>) -> Option<String> {
        if self.opts.table_selection() {
            return Some("only tables are selected (-t)".to_string());
        }
        if !self.schema_selected(schema.unwrap_or("")) {
            return Some("schema not selected (-n/-N)".to_string());
        }
        None
    }

    /// Objects outside any schema (extensions, casts, publications…).
    pub(super) fn global_object_fate(&self) -> Option<String> {
        let o = self.opts;
        if o.table_selection() {
            return Some("only tables are selected (-t)".to_string());
        }
        if !o.schemas.is_empty() {
            return Some("only schemas are selected (-n)".to_string());
        }
        if !o.extensions.is_empty() {
            return Some("only extensions are selected (-e)".to_string());
        }
        None
    }

    /// Selection by what the object belongs to.
    pub(super) fn object_fate(
        &mut self,
        seg: &Segment<'_>,
        a: &Analysis,
    ) -> Result<Option<String>> {
        let Some(obj) = &a.object else {
            if first_words(seg.bytes, 2)
                .iter()
                .zip(["refresh", "materialized"])
                .filter(|(w, e)| w.eq_ignore_ascii_case(e.as_bytes()))
                .count()
                == 2
                && let Some(i) = find_ci(seg.bytes, b" view")
            {
                let mut at = i + 5;
                if let Some((s, n)) = qualified_name(seg.bytes, &mut at) {
                    return Ok(self.rel_fate(&rel(s.as_deref(), &n)));
                }
            }
            return Ok(None);
        };
        let stmt = seg.bytes;
        if obj.kind == ObjectKind::Table
            && a.action == Action::Alter
            && self.selecting()
            && find_ci(stmt, b"identity").is_some()
            && let Some(N::AlterTableStmt(s)) = a.tree.as_deref()
            && let Some(rv) = &s.relation
        {
            for c in &s.cmds {
                if let Some(N::AlterTableCmd(cmd)) = &c.node
                    && let Some(N::Constraint(con)) =
                        cmd.def.as_deref().and_then(|d| d.node.as_ref())
                    && con.contype == pb::ConstrType::ConstrIdentity as i32
                    && let Some(seq) = identity_sequence(con)
                {
                    let t = rv_rel(rv);
                    let seq = if seq.0.is_empty() {
                        (t.0.clone(), seq.1)
                    } else {
                        seq
                    };
                    self.owned_seq.insert(seq, t);
                }
            }
        }
        let fate = match obj.kind {
            ObjectKind::Table | ObjectKind::View | ObjectKind::MatView | ObjectKind::Sequence => {
                let r = match (&obj.table, obj.kind) {
                    (Some((ts, tn)), ObjectKind::Table) => rel(ts.as_deref(), tn),
                    _ => rel(obj.schema.as_deref(), &obj.name),
                };
                self.rel_fate(&r)
            }
            ObjectKind::Index if obj.table.is_none() => {
                let r = rel(obj.schema.as_deref(), &obj.name);
                match self.index_table.get(&r).cloned() {
                    Some(t) => self.rel_fate(&t),
                    None => self.schema_object_fate(obj.schema.as_deref()),
                }
            }
            ObjectKind::Index
            | ObjectKind::Trigger
            | ObjectKind::Rule
            | ObjectKind::Policy
            | ObjectKind::Default
            | ObjectKind::Column => {
                let (ts, tn) = obj.table.clone().unwrap_or_default();
                self.rel_fate(&rel(ts.as_deref(), &tn))
            }
            ObjectKind::Constraint => match &obj.table {
                Some((Some(ts), tn)) => self.rel_fate(&rel(Some(ts), tn)),
                _ => self.schema_object_fate(obj.schema.as_deref()),
            },
            ObjectKind::Schema => {
                if self.opts.table_selection() {
                    Some("only tables are selected (-t)".to_string())
                } else if !self.schema_selected(&obj.name) {
                    Some("schema not selected (-n/-N)".to_string())
                } else {
                    None
                }
            }
            ObjectKind::Function
            | ObjectKind::Procedure
            | ObjectKind::Aggregate
            | ObjectKind::Type
            | ObjectKind::Domain
            | ObjectKind::Operator
            | ObjectKind::Collation
            | ObjectKind::TextSearch
            | ObjectKind::Conversion => self.schema_object_fate(obj.schema.as_deref()),
            ObjectKind::Statistics => {
                let r = rel(obj.schema.as_deref(), &obj.name);
                if self.excluded.contains(&r) {
                    Some(format!("statistics object {} was removed", rel_text(&r)))
                } else {
                    self.schema_object_fate(obj.schema.as_deref())
                }
            }
            ObjectKind::Extension => self.extension_fate(&obj.name),
            ObjectKind::Language
            | ObjectKind::Cast
            | ObjectKind::EventTrigger
            | ObjectKind::ForeignDataWrapper
            | ObjectKind::Server
            | ObjectKind::UserMapping
            | ObjectKind::Publication
            | ObjectKind::Subscription
            | ObjectKind::LargeObject
            | ObjectKind::Transform
            | ObjectKind::AccessMethod => self.global_object_fate(),
            // Default privileges in a schema go with it; the others with
            // the objects in no schema.
            ObjectKind::Acl if obj.schema.is_some() => {
                self.schema_object_fate(obj.schema.as_deref())
            }
            ObjectKind::Acl => self.global_object_fate(),
            ObjectKind::Database
            | ObjectKind::Role
            | ObjectKind::Tablespace
            | ObjectKind::Parameter
            | ObjectKind::Comment
            | ObjectKind::Other => None,
        };
        if let Some(why) = fate {
            if obj.kind == ObjectKind::Table
                && a.action == Action::Alter
                && self.selecting()
                && find_ci(stmt, b"attach partition").is_some()
            {
                self.attach_to_removed(seg, obj, a.tree.as_deref())?;
            }
            return Ok(Some(why));
        }
        if obj.kind == ObjectKind::Table && a.action == Action::Create && self.selecting() {
            if let Some(why) = self.inherits_from_removed(seg, obj, a.tree.as_deref())? {
                return Ok(Some(why));
            }
        }
        // Kept so far: what it depends on.
        if !self.needs_objects {
            return Ok(None);
        }
        // Only statements that can point at another relation are parsed
        // again (cheap byte checks first: most DDL is not).
        let needs_tree = match obj.kind {
            ObjectKind::View | ObjectKind::MatView | ObjectKind::Statistics => {
                a.action == Action::Create
            }
            ObjectKind::Constraint => find_ci(stmt, b"foreign key").is_some(),
            ObjectKind::Table | ObjectKind::Index => find_ci(stmt, b"attach partition").is_some(),
            ObjectKind::Publication => find_ci(stmt, b"table").is_some(),
            _ => false,
        };
        if !needs_tree || !self.selecting() {
            return Ok(None);
        }
        let Some(node) = a.tree.as_deref() else {
            return Ok(None);
        };
        match node {
            N::AlterTableStmt(s) => {
                let this = s.relation.as_ref().map(rv_rel);
                for c in &s.cmds {
                    let Some(N::AlterTableCmd(cmd)) = &c.node else {
                        continue;
                    };
                    let def = cmd.def.as_deref().and_then(|d| d.node.as_ref());
                    match def {
                        Some(N::Constraint(con))
                            if con.contype == pb::ConstrType::ConstrForeign as i32 =>
                        {
                            if let Some(pk) = &con.pktable {
                                let pk = rv_rel(pk);
                                if let Some(why) = self.rel_fate(&pk) {
                                    let on = this.as_ref().map(rel_text).unwrap_or_default();
                                    self.report.warnings.push(format!(
                                        "line {}: removed foreign key {} on {on}: it references excluded table {} ({why})",
                                        seg.line,
                                        con.conname,
                                        rel_text(&pk)
                                    ));
                                    return Ok(Some("foreign key to a removed table".into()));
                                }
                            }
                        }
                        Some(N::Constraint(con))
                            if con.contype == pb::ConstrType::ConstrIdentity as i32 =>
                        {
                            if let (Some(t), Some(seq)) = (&this, identity_sequence(con)) {
                                self.owned_seq.insert(seq, t.clone());
                            }
                        }
                        Some(N::PartitionCmd(p)) => {
                            if let Some(child) = &p.name {
                                let child = rv_rel(child);
                                let child = if child.0.is_empty() {
                                    (
                                        this.as_ref().map(|t| t.0.clone()).unwrap_or_default(),
                                        child.1,
                                    )
                                } else {
                                    child
                                };
                                let fate = if obj.kind == ObjectKind::Index {
                                    self.index_table
                                        .get(&child)
                                        .cloned()
                                        .and_then(|t| self.rel_fate(&t))
                                } else {
                                    self.rel_fate(&child)
                                };
                                if let Some(why) = fate {
                                    return Ok(Some(format!(
                                        "partition {} removed: {why}",
                                        rel_text(&child)
                                    )));
                                }
                                if obj.kind == ObjectKind::Table
                                    && let Some(parent) = &this
                                {
                                    self.children.entry(parent.clone()).or_default().push(child);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            N::ViewStmt(_) | N::CreateTableAsStmt(_) if a.action == Action::Create => {
                let this = rel(obj.schema.as_deref(), &obj.name);
                let mut read = Vec::new();
                for (n, _, _, _) in node.nodes() {
                    if let pg_query::NodeRef::RangeVar(rv) = n
                        && !rv.schemaname.is_empty()
                    {
                        let r = rv_rel(rv);
                        // What the dump does not create (a system catalog,
                        // an extension's table) is not the filter's to remove.
                        if r == this || !self.created_relations.contains(&r) {
                            continue;
                        }
                        read.push(r.clone());
                        if let Some(why) = self.rel_fate(&r) {
                            self.excluded.insert(this.clone());
                            self.report.warnings.push(format!(
                                "line {}: removed view {}: it reads removed relation {} ({why})",
                                seg.line,
                                rel_text(&this),
                                rel_text(&r)
                            ));
                            return Ok(Some("view on a removed relation".into()));
                        }
                    }
                }
                for r in read {
                    self.readers.entry(r).or_default().push(this.clone());
                }
            }
            N::CreateStatsStmt(s) => {
                if let Some(N::RangeVar(rv)) = s.relations.first().and_then(|n| n.node.as_ref())
                    && let Some(why) = self.rel_fate(&rv_rel(rv))
                {
                    self.excluded.insert(rel(obj.schema.as_deref(), &obj.name));
                    return Ok(Some(format!("statistics object: {why}")));
                }
            }
            N::AlterPublicationStmt(s) => {
                for p in &s.pubobjects {
                    if let Some(N::PublicationObjSpec(spec)) = &p.node
                        && let Some(t) = &spec.pubtable
                        && let Some(rv) = &t.relation
                        && let Some(why) = self.rel_fate(&rv_rel(rv))
                    {
                        return Ok(Some(format!("publication table: {why}")));
                    }
                }
            }
            _ => {}
        }
        Ok(None)
    }

    /// `CREATE TABLE child (…) INHERITS (parent)` or `PARTITION OF parent`
    /// when a parent is not in the output: the child goes too, as `DROP
    /// TABLE parent CASCADE` takes it (its CREATE would fail without the
    /// parent). A kept child is remembered for a later removal of its parent.
    pub(super) fn inherits_from_removed(
        &mut self,
        seg: &Segment<'_>,
        obj: &ObjectRef,
        tree: Option<&N>,
    ) -> Result<Option<String>> {
        let stmt = seg.bytes;
        if find_ci(stmt, b"inherits").is_none() && find_ci(stmt, b"partition of").is_none() {
            return Ok(None);
        }
        let Some(N::CreateStmt(c)) = tree else {
            return Ok(None);
        };
        let this = rel(obj.schema.as_deref(), &obj.name);
        for p in &c.inh_relations {
            let Some(N::RangeVar(rv)) = &p.node else {
                continue;
            };
            let parent = rv_rel(rv);
            if let Some(why) = self.rel_fate(&parent) {
                self.report.warnings.push(format!(
                    "line {}: removed table {}: it inherits from {}, which is not in the output ({why})",
                    seg.line,
                    rel_text(&this),
                    rel_text(&parent)
                ));
                self.remove_with_dependents(&this);
                return Ok(Some(format!(
                    "inherits from removed table {}",
                    rel_text(&parent)
                )));
            }
            self.children.entry(parent).or_default().push(this.clone());
        }
        Ok(None)
    }

    /// `ALTER TABLE ONLY parent ATTACH PARTITION child` when the parent was
    /// removed by an exclusion (-T, -N): pg_dump writes a partition as a
    /// table of its own, long before it attaches it, so the child is already
    /// in the output. `DROP TABLE … CASCADE` of the parent would take it:
    /// the ATTACH is replaced by that child's drop, and everything about the
    /// child (and what reads it) that follows is removed.
    pub(super) fn attach_to_removed(
        &mut self,
        seg: &Segment<'_>,
        obj: &ObjectRef,
        tree: Option<&N>,
    ) -> Result<()> {
        let Some((ts, tn)) = &obj.table else {
            return Ok(());
        };
        let parent = rel(ts.as_deref(), tn);
        if !self.explicitly_removed(&parent) {
            return Ok(());
        }
        let Some(N::AlterTableStmt(s)) = tree else {
            return Ok(());
        };
        let mut text = String::new();
        for c in &s.cmds {
            let Some(N::AlterTableCmd(cmd)) = &c.node else {
                continue;
            };
            let Some(N::PartitionCmd(p)) = cmd.def.as_deref().and_then(|d| d.node.as_ref()) else {
                continue;
            };
            let Some(child) = &p.name else { continue };
            let mut child = rv_rel(child);
            if child.0.is_empty() {
                child.0 = parent.0.clone();
            }
            if self.rel_fate(&child).is_some() {
                continue;
            }
            self.report.warnings.push(format!(
                "line {}: removed partition {} of removed table {}: its CREATE TABLE was \
                 already written, so it is dropped here",
                seg.line,
                rel_text(&child),
                rel_text(&parent)
            ));
            let name = if child.0.is_empty() {
                crate::sql::quote_ident(&child.1)
            } else {
                format!(
                    "{}.{}",
                    crate::sql::quote_ident(&child.0),
                    crate::sql::quote_ident(&child.1)
                )
            };
            text.push_str(&format!(
                "-- pgpipe-filter: {} is a partition of removed table {}\nDROP TABLE IF EXISTS {name} CASCADE;\n",
                rel_text(&child),
                rel_text(&parent)
            ));
            self.remove_with_dependents(&child);
        }
        if !text.is_empty() {
            // Names the parser decoded: back to the dump's bytes.
            let bytes = encoding::reencode(&text, seg.encoding)
                .map(|b| b.into_owned())
                .ok_or_else(|| {
                    Error::runtime(format!(
                        "cannot write the drop of a partition in client encoding {}",
                        seg.encoding
                    ))
                    .at_line(seg.line)
                })?;
            self.replacement = Some(bytes);
        }
        Ok(())
    }

    /// Whether a relation was removed by an exclusion (-T, -N, or as a
    /// dependent of one), not merely left unselected by -t/-n.
    pub(super) fn explicitly_removed(&mut self, r: &Rel) -> bool {
        if self.excluded.contains(r) {
            return true;
        }
        let o = self.opts;
        let schema = (!r.0.is_empty()).then_some(r.0.as_str());
        o.exclude_tables
            .iter()
            .chain(&o.exclude_tables_and_children)
            .any(|p| p.matches(schema, &r.1))
            || o.exclude_schemas.iter().any(|p| p.matches_name(&r.0))
    }

    /// Remove a relation and, as CASCADE would, its inheritance children,
    /// its partitions and the views that read it.
    pub(super) fn remove_with_dependents(&mut self, r: &Rel) {
        let mut todo = vec![r.clone()];
        while let Some(r) = todo.pop() {
            if !self.excluded.insert(r.clone()) {
                continue;
            }
            for d in self
                .children
                .remove(&r)
                .into_iter()
                .chain(self.readers.remove(&r))
                .flatten()
            {
                if d != r {
                    todo.push(d);
                }
            }
        }
    }

    /// Whether any option selects or removes objects.
    pub(super) fn selecting(&self) -> bool {
        let o = self.opts;
        o.table_selection()
            || !o.exclude_tables.is_empty()
            || !o.exclude_tables_and_children.is_empty()
            || !o.schemas.is_empty()
            || !o.exclude_schemas.is_empty()
    }

    /// What a statement says about relations, before anything decides its
    /// fate: tables and sequences it creates (and whether unlogged), the
    /// index of a `CREATE INDEX` or of a key or exclusion constraint and its
    /// table, and a table's parents (`INHERITS`, `PARTITION OF`, `ATTACH
    /// PARTITION`).
    pub(super) fn note_relations(&mut self, a: &Analysis) {
        let Some(obj) = &a.object else {
            return;
        };
        let tree = a.tree.as_deref();
        match (obj.kind, a.action, tree) {
            (ObjectKind::Table, Action::Create, Some(N::CreateStmt(c))) => {
                let this = rel(obj.schema.as_deref(), &obj.name);
                if c.relation.as_ref().is_some_and(|r| r.relpersistence == "u") {
                    self.unlogged.insert(this.clone());
                }
                for p in &c.inh_relations {
                    if let Some(N::RangeVar(rv)) = &p.node {
                        let parent = rv_rel(rv);
                        self.note_parent(this.clone(), parent);
                    }
                }
                self.created_relations.insert(this);
            }
            (ObjectKind::Table | ObjectKind::MatView | ObjectKind::View, Action::Create, _)
            | (ObjectKind::Sequence, Action::Create, _) => {
                let this = rel(obj.schema.as_deref(), &obj.name);
                if let Some(N::CreateSeqStmt(s)) = tree
                    && s.sequence.as_ref().is_some_and(|r| r.relpersistence == "u")
                {
                    self.unlogged.insert(this.clone());
                }
                self.created_relations.insert(this);
            }
            (ObjectKind::Index, Action::Create, _) => {
                if let Some((ts, tn)) = &obj.table {
                    self.index_table.insert(
                        rel(obj.schema.as_deref().or(ts.as_deref()), &obj.name),
                        rel(ts.as_deref(), tn),
                    );
                }
            }
            _ => {}
        }
        // ALTER TABLE: a key or exclusion constraint's index, an attached
        // partition (of a table or of an index).
        if let Some(N::AlterTableStmt(s)) = tree
            && let Some(rv) = &s.relation
        {
            let this = rv_rel(rv);
            for c in &s.cmds {
                let Some(N::AlterTableCmd(cmd)) = &c.node else {
                    continue;
                };
                match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
                    Some(N::Constraint(con))
                        if !con.conname.is_empty()
                            && [
                                pb::ConstrType::ConstrPrimary,
                                pb::ConstrType::ConstrUnique,
                                pb::ConstrType::ConstrExclusion,
                            ]
                            .iter()
                            .any(|t| con.contype == *t as i32) =>
                    {
                        self.index_table
                            .insert((this.0.clone(), con.conname.clone()), this.clone());
                    }
                    // An identity column's sequence: created here, and
                    // unlogged with an unlogged table.
                    Some(N::Constraint(con))
                        if con.contype == pb::ConstrType::ConstrIdentity as i32 =>
                    {
                        if let Some(mut seq) = identity_sequence(con) {
                            if seq.0.is_empty() {
                                seq.0 = this.0.clone();
                            }
                            // pg_dump 15 and later say LOGGED or UNLOGGED
                            // among the options when it is not the table's.
                            let said = con.options.iter().find_map(|o| match &o.node {
                                Some(N::DefElem(d)) if d.defname == "unlogged" => Some(true),
                                Some(N::DefElem(d)) if d.defname == "logged" => Some(false),
                                _ => None,
                            });
                            if said.unwrap_or_else(|| self.unlogged.contains(&this)) {
                                self.unlogged.insert(seq.clone());
                            }
                            self.created_relations.insert(seq);
                        }
                    }
                    Some(N::PartitionCmd(p)) if obj.kind == ObjectKind::Table => {
                        if let Some(child) = &p.name {
                            let mut child = rv_rel(child);
                            if child.0.is_empty() {
                                child.0 = this.0.clone();
                            }
                            self.note_parent(child, this.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// `child`'s parent, once: the statements the pre-scan held are noted
    /// again when they go through the filter.
    fn note_parent(&mut self, child: Rel, parent: Rel) {
        let parents = self.parents.entry(child).or_default();
        if !parents.contains(&parent) {
            parents.push(parent);
        }
    }

    /// `--no-policies`, `--no-table-access-method`, `--no-toast-compression`:
    /// the statements that carry only what they remove.
    pub(super) fn reshape_fate(&self, a: &Analysis) -> Option<String> {
        let o = self.opts;
        if !(o.no_policies || o.no_table_access_method || o.no_toast_compression) {
            return None;
        }
        if o.no_policies
            && a.object
                .as_ref()
                .is_some_and(|x| x.kind == ObjectKind::Policy)
        {
            return Some("--no-policies".into());
        }
        let Some(N::AlterTableStmt(s)) = a.tree.as_deref() else {
            return None;
        };
        let subtypes: Vec<i32> = s
            .cmds
            .iter()
            .filter_map(|c| match &c.node {
                Some(N::AlterTableCmd(cmd)) => Some(cmd.subtype),
                _ => None,
            })
            .collect();
        let only =
            |t: pb::AlterTableType| !subtypes.is_empty() && subtypes.iter().all(|s| *s == t as i32);
        if o.no_policies && only(pb::AlterTableType::AtEnableRowSecurity) {
            return Some("--no-policies: ENABLE ROW LEVEL SECURITY".into());
        }
        if o.no_table_access_method && only(pb::AlterTableType::AtSetAccessMethod) {
            return Some("--no-table-access-method".into());
        }
        if o.no_toast_compression && only(pb::AlterTableType::AtSetCompression) {
            return Some("--no-toast-compression".into());
        }
        None
    }
}
