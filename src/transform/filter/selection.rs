//! Selection: which relations, schemas and objects the options keep
//! (`-t`, `-T`, `-n`, `-N`, `--exclude-table-data`), and what goes with a
//! removed table (its children, partitions, views, foreign keys).

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
        if !self.schema_selected(&r.0) {
            return Some("schema not selected (-n/-N)".to_string());
        }
        let o = self.opts;
        let schema = (!r.0.is_empty()).then_some(r.0.as_str());
        for p in &o.exclude_tables {
            if p.matches(schema, &r.1) {
                self.mark(p);
                return Some("table excluded (-T)".to_string());
            }
        }
        if o.tables.is_empty() {
            return None;
        }
        let mut any = false;
        for p in &o.tables {
            if p.matches(schema, &r.1) {
                self.mark(p);
                any = true;
            }
        }
        if any {
            None
        } else {
            Some("table not selected (-t)".to_string())
        }
    }

    /// Whether a table's rows are in the output, and if not, why.
    pub(super) fn data_fate(&mut self, r: &Rel) -> Option<String> {
        if self.opts.schema_only {
            return Some("--schema-only".to_string());
        }
        if let Some(why) = self.rel_fate(r) {
            return Some(why);
        }
        let schema = (!r.0.is_empty()).then_some(r.0.as_str());
        let o = self.opts;
        for p in &o.exclude_table_data {
            if p.matches(schema, &r.1) {
                self.mark(p);
                return Some("table data excluded (--exclude-table-data)".to_string());
            }
        }
        None
    }

    /// Objects in a schema that are not relations (functions, types…).
    pub(super) fn schema_object_fate(&mut self, schema: Option<&str>) -> Option<String> {
        if !self.opts.tables.is_empty() {
            return Some("only tables are selected (-t)".to_string());
        }
        if !self.schema_selected(schema.unwrap_or("")) {
            return Some("schema not selected (-n/-N)".to_string());
        }
        None
    }

    /// Objects outside any schema (extensions, casts, publications…).
    pub(super) fn global_object_fate(&self) -> Option<String> {
        if !self.opts.tables.is_empty() {
            return Some("only tables are selected (-t)".to_string());
        }
        if !self.opts.schemas.is_empty() {
            return Some("only schemas are selected (-n)".to_string());
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
        if obj.kind == ObjectKind::Index
            && a.action == Action::Create
            && let Some((ts, tn)) = &obj.table
        {
            self.index_table.insert(
                rel(obj.schema.as_deref().or(ts.as_deref()), &obj.name),
                rel(ts.as_deref(), tn),
            );
        }
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
                if !self.opts.tables.is_empty() {
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
            ObjectKind::Extension
            | ObjectKind::Language
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
                        if r == this {
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
        o.exclude_tables.iter().any(|p| p.matches(schema, &r.1))
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
        !o.tables.is_empty()
            || !o.exclude_tables.is_empty()
            || !o.schemas.is_empty()
            || !o.exclude_schemas.is_empty()
    }
}
