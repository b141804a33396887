//! `--clean`: the `DROP … IF EXISTS … CASCADE` written before the objects
//! the dump creates, in the order a restore needs.

use super::*;

impl Filter<'_, '_> {
    pub(super) fn clean_flush(&mut self) -> Result<()> {
        self.clean_buffering = false;
        let drops = std::mem::take(&mut self.clean_drops);
        if !drops.is_empty() {
            let mut text =
                b"\n-- pgpipe-filter --clean: drop what this dump creates, in reverse order\n"
                    .to_vec();
            for d in drops.iter().rev() {
                text.extend_from_slice(d);
                text.push(b'\n');
            }
            text.push(b'\n');
            self.report.drops_emitted += drops.len() as u64;
            self.write_out(&text)?;
        }
        let buf = std::mem::take(&mut self.clean_buf);
        self.write_out(&buf)
    }

    /// With `--clean`: the drop for an object this statement creates, and
    /// the start of holding definitions until their drops go out.
    pub(super) fn start_clean_if_create(
        &mut self,
        seg: &Segment<'_>,
        class: &Class,
        fate: &Outcome,
    ) -> Result<()> {
        if !self.opts.clean || !matches!(fate, Outcome::Keep) {
            return Ok(());
        }
        if matches!(
            self.section,
            Section::Database { keep: false } | Section::Undecided
        ) && self.dumpall
        {
            // Undecided sections are decided by CREATE DATABASE before this.
            if self.section == Section::Undecided {
                return Ok(());
            }
        }
        let drop = match class {
            Class::Analysed(a) if a.action == Action::Create => {
                match a.tree.as_deref().map_or(Ok(None), drop_for) {
                    Ok(d) => d,
                    Err(e) => {
                        self.report.warnings.push(format!(
                            "line {}: --clean: no drop for this statement: {e}",
                            seg.line
                        ));
                        None
                    }
                }
            }
            Class::LoCreate(oid) => Some(format!(
                "SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE oid = {oid};"
            )),
            _ => None,
        };
        if let Some(d) = drop {
            // The deparser wrote decoded text: back to the dump's bytes.
            let Some(d) = encoding::reencode(&d, seg.encoding).map(|b| b.into_owned()) else {
                self.report.warnings.push(format!(
                    "line {}: --clean: the drop for this statement cannot be written in {}",
                    seg.line, seg.encoding
                ));
                return Ok(());
            };
            if !self.clean_buffering {
                self.clean_buffering = true;
            }
            if self.clean_seen.insert(d.clone()) {
                self.clean_drops.push(d);
            }
        }
        Ok(())
    }
}

/// The `DROP … IF EXISTS … CASCADE` for what a `CREATE` statement creates,
/// written by PostgreSQL's deparser from the parse tree. `None` for objects
/// that need no drop (table-bound objects go with their table; schemas are
/// created with IF NOT EXISTS; extensions already are; roles and
/// tablespaces are cluster-wide).
pub(super) fn drop_for(node: &N) -> std::result::Result<Option<String>, String> {
    use pb::ObjectType as OT;
    let names = |rv: &pb::RangeVar| -> pb::Node {
        let mut items = Vec::new();
        if !rv.schemaname.is_empty() {
            items.push(string(&rv.schemaname));
        }
        items.push(string(&rv.relname));
        list(items)
    };
    let strings_list = |v: &[pb::Node]| list(v.to_vec());
    let (ty, obj): (OT, pb::Node) = match node {
        N::CreateStmt(s) => (
            OT::ObjectTable,
            names(s.relation.as_ref().ok_or("no name")?),
        ),
        N::CreateForeignTableStmt(s) => (
            OT::ObjectForeignTable,
            names(
                s.base_stmt
                    .as_ref()
                    .and_then(|b| b.relation.as_ref())
                    .ok_or("no name")?,
            ),
        ),
        N::ViewStmt(s) => (OT::ObjectView, names(s.view.as_ref().ok_or("no name")?)),
        N::CreateTableAsStmt(s) => {
            let rv = s
                .into
                .as_ref()
                .and_then(|i| i.rel.as_ref())
                .ok_or("no name")?;
            if s.objtype == OT::ObjectMatview as i32 {
                (OT::ObjectMatview, names(rv))
            } else {
                (OT::ObjectTable, names(rv))
            }
        }
        N::CreateSeqStmt(s) => (
            OT::ObjectSequence,
            names(s.sequence.as_ref().ok_or("no name")?),
        ),
        N::CompositeTypeStmt(s) => (
            OT::ObjectType,
            type_name(names(s.typevar.as_ref().ok_or("no name")?)),
        ),
        N::CreateEnumStmt(s) => (OT::ObjectType, type_name(strings_list(&s.type_name))),
        N::CreateRangeStmt(s) => (OT::ObjectType, type_name(strings_list(&s.type_name))),
        N::CreateDomainStmt(s) => (OT::ObjectDomain, type_name(strings_list(&s.domainname))),
        N::DefineStmt(s) => {
            let kind = s.kind;
            if kind == OT::ObjectType as i32 {
                (OT::ObjectType, type_name(strings_list(&s.defnames)))
            } else if kind == OT::ObjectAggregate as i32 {
                let args: Vec<pb::Node> = match s.args.first().and_then(|a| a.node.as_ref()) {
                    Some(N::List(l)) => l
                        .items
                        .iter()
                        .filter_map(|p| match &p.node {
                            Some(N::FunctionParameter(fp)) => {
                                fp.arg_type.clone().map(|t| pb::Node {
                                    node: Some(N::TypeName(t)),
                                })
                            }
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                (OT::ObjectAggregate, with_args(s.defnames.clone(), args))
            } else if kind == OT::ObjectCollation as i32
                || kind == OT::ObjectTsconfiguration as i32
                || kind == OT::ObjectTsdictionary as i32
                || kind == OT::ObjectTsparser as i32
                || kind == OT::ObjectTstemplate as i32
            {
                let ty = OT::try_from(kind).map_err(|_| "unknown object type")?;
                (ty, strings_list(&s.defnames))
            } else if kind == OT::ObjectOperator as i32 {
                let mut left = pb::Node { node: None };
                let mut right = pb::Node { node: None };
                for d in &s.definition {
                    if let Some(N::DefElem(d)) = &d.node
                        && let Some(N::TypeName(t)) = d.arg.as_deref().and_then(|a| a.node.as_ref())
                    {
                        let n = pb::Node {
                            node: Some(N::TypeName(t.clone())),
                        };
                        match d.defname.as_str() {
                            "leftarg" => left = n,
                            "rightarg" => right = n,
                            _ => {}
                        }
                    }
                }
                (
                    OT::ObjectOperator,
                    with_args(s.defnames.clone(), vec![left, right]),
                )
            } else {
                return Err("objects of this kind are not dropped by --clean".into());
            }
        }
        N::CreateFunctionStmt(s) => {
            // A function is named by its input arguments. A procedure's
            // OUT arguments are part of its signature too, and only the
            // argument modes tell `p(OUT int, IN int)` from `p(IN int, IN
            // int)`: its drop lists every argument with its mode, as
            // pg_dump --clean writes it.
            use pb::FunctionParameterMode as M;
            let mut types = Vec::new();
            let mut params = Vec::new();
            for p in &s.parameters {
                let Some(N::FunctionParameter(fp)) = &p.node else {
                    continue;
                };
                let output =
                    fp.mode == M::FuncParamOut as i32 || fp.mode == M::FuncParamTable as i32;
                if output && !s.is_procedure {
                    continue;
                }
                let Some(t) = fp.arg_type.clone() else {
                    continue;
                };
                types.push(pb::Node {
                    node: Some(N::TypeName(t.clone())),
                });
                if s.is_procedure {
                    let mode = if fp.mode == M::FuncParamDefault as i32 {
                        M::FuncParamIn as i32
                    } else {
                        fp.mode
                    };
                    params.push(pb::Node {
                        node: Some(N::FunctionParameter(Box::new(pb::FunctionParameter {
                            name: String::new(),
                            arg_type: Some(t),
                            mode,
                            defexpr: None,
                            location: -1,
                        }))),
                    });
                }
            }
            let ty = if s.is_procedure {
                OT::ObjectProcedure
            } else {
                OT::ObjectFunction
            };
            let mut obj = with_args(s.funcname.clone(), types);
            if let Some(N::ObjectWithArgs(o)) = &mut obj.node {
                o.objfuncargs = params;
            }
            (ty, obj)
        }
        N::CreateStatsStmt(s) => (OT::ObjectStatisticExt, strings_list(&s.defnames)),
        N::CreateAmStmt(s) => (OT::ObjectAccessMethod, string(&s.amname)),
        N::CreateTransformStmt(s) => {
            let t = s.type_name.clone().ok_or("no type")?;
            (
                OT::ObjectTransform,
                list(vec![
                    pb::Node {
                        node: Some(N::TypeName(t)),
                    },
                    string(&s.lang),
                ]),
            )
        }
        N::CreateEventTrigStmt(s) => (OT::ObjectEventTrigger, string(&s.trigname)),
        N::CreateFdwStmt(s) => (OT::ObjectFdw, string(&s.fdwname)),
        N::CreateForeignServerStmt(s) => (OT::ObjectForeignServer, string(&s.servername)),
        N::CreatePublicationStmt(s) => (OT::ObjectPublication, string(&s.pubname)),
        N::CreatePlangStmt(s) => {
            if s.replace {
                return Ok(None);
            }
            (OT::ObjectLanguage, string(&s.plname))
        }
        N::CreateConversionStmt(s) => (OT::ObjectConversion, strings_list(&s.conversion_name)),
        N::CreateCastStmt(s) => {
            let t = |x: &Option<pb::TypeName>| -> std::result::Result<pb::Node, String> {
                Ok(pb::Node {
                    node: Some(N::TypeName(x.clone().ok_or("no type")?)),
                })
            };
            (
                OT::ObjectCast,
                list(vec![t(&s.sourcetype)?, t(&s.targettype)?]),
            )
        }
        N::CreateOpClassStmt(s) => {
            let mut items = vec![string(&s.amname)];
            items.extend(s.opclassname.iter().cloned());
            (OT::ObjectOpclass, list(items))
        }
        N::CreateOpFamilyStmt(s) => {
            let mut items = vec![string(&s.amname)];
            items.extend(s.opfamilyname.iter().cloned());
            (OT::ObjectOpfamily, list(items))
        }
        N::CreateUserMappingStmt(s) => {
            let stmt = N::DropUserMappingStmt(pb::DropUserMappingStmt {
                user: s.user.clone(),
                servername: s.servername.clone(),
                missing_ok: true,
            });
            return deparse(stmt).map(Some);
        }
        N::CreatedbStmt(s) => {
            let stmt = N::DropdbStmt(pb::DropdbStmt {
                dbname: s.dbname.clone(),
                missing_ok: true,
                options: Vec::new(),
            });
            return deparse(stmt).map(Some);
        }
        N::CreateSubscriptionStmt(s) => {
            return Ok(Some(crate::sql::blocks::drop_subscription(&s.subname)));
        }
        _ => return Ok(None),
    };
    let stmt = N::DropStmt(pb::DropStmt {
        objects: vec![obj],
        remove_type: ty as i32,
        behavior: pb::DropBehavior::DropCascade as i32,
        missing_ok: true,
        concurrent: false,
    });
    deparse(stmt).map(Some)
}

/// `CREATE SCHEMA x` becomes `CREATE SCHEMA IF NOT EXISTS x`.
pub(super) fn schema_if_not_exists(stmt: &[u8]) -> Option<Vec<u8>> {
    let w = first_words(stmt, 5);
    if w.len() >= 4 && w[2].eq_ignore_ascii_case(b"if") {
        return None;
    }
    let second = w.get(1)?;
    let at = second.as_ptr() as usize - stmt.as_ptr() as usize + second.len();
    let mut out = stmt[..at].to_vec();
    out.extend_from_slice(b" IF NOT EXISTS");
    out.extend_from_slice(&stmt[at..]);
    Some(out)
}
