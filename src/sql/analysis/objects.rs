//! The object a statement is about, from its parse tree.

use super::*;

pub(super) fn simple(kind: ObjectKind, name: &str) -> ObjectRef {
    ObjectRef {
        kind,
        schema: None,
        name: name.to_string(),
        table: None,
    }
}

pub(super) fn role_object(spec: Option<&pb::RoleSpec>) -> Option<ObjectRef> {
    let spec = spec?;
    let name = if spec.roletype == pb::RoleSpecType::RolespecCstring as i32 {
        spec.rolename.clone()
    } else {
        return None;
    };
    Some(simple(ObjectKind::Role, &name))
}

pub(super) fn opt(s: &str) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s.to_string())
    }
}

pub(super) fn rv_name(rv: &pb::RangeVar) -> (Option<String>, String) {
    (opt(&rv.schemaname), rv.relname.clone())
}

/// An object that is a relation: tables carry themselves as `table`.
pub(super) fn relation_object(kind: ObjectKind, rv: &pb::RangeVar) -> ObjectRef {
    let (schema, name) = rv_name(rv);
    let table = (kind == ObjectKind::Table).then(|| (schema.clone(), name.clone()));
    ObjectRef {
        kind,
        schema,
        name,
        table,
    }
}

/// An object that belongs to a table and lives in the table's schema.
pub(super) fn table_bound(kind: ObjectKind, name: &str, rv: Option<&pb::RangeVar>) -> ObjectRef {
    let table = rv.map(rv_name);
    ObjectRef {
        kind,
        schema: table.as_ref().and_then(|t| t.0.clone()),
        name: name.to_string(),
        table,
    }
}

pub(super) fn list_items(arg: Option<&pb::Node>) -> &[pb::Node] {
    match arg.and_then(|a| a.node.as_ref()) {
        Some(N::List(l)) => &l.items,
        _ => &[],
    }
}

/// `[catalog.][schema.]name` from name parts.
pub(super) fn qualified(kind: ObjectKind, mut parts: Vec<String>) -> Option<ObjectRef> {
    let name = parts.pop()?;
    let schema = parts.pop();
    Some(ObjectRef {
        kind,
        schema,
        name,
        table: None,
    })
}

/// `[schema.]table.name`: an object attached to a table.
pub(super) fn attached(kind: ObjectKind, mut parts: Vec<String>) -> Option<ObjectRef> {
    let name = parts.pop()?;
    let table = parts.pop()?;
    let schema = parts.pop();
    Some(ObjectRef {
        kind,
        schema: schema.clone(),
        name,
        table: Some((schema, table)),
    })
}

pub(super) fn kind_of(objtype: i32) -> ObjectKind {
    let table: [(OT, ObjectKind); 40] = [
        (OT::ObjectAggregate, ObjectKind::Aggregate),
        (OT::ObjectCast, ObjectKind::Cast),
        (OT::ObjectColumn, ObjectKind::Column),
        (OT::ObjectCollation, ObjectKind::Collation),
        (OT::ObjectConversion, ObjectKind::Conversion),
        (OT::ObjectDatabase, ObjectKind::Database),
        (OT::ObjectDefault, ObjectKind::Default),
        (OT::ObjectDefacl, ObjectKind::Acl),
        (OT::ObjectDomain, ObjectKind::Domain),
        (OT::ObjectDomconstraint, ObjectKind::Constraint),
        (OT::ObjectEventTrigger, ObjectKind::EventTrigger),
        (OT::ObjectExtension, ObjectKind::Extension),
        (OT::ObjectFdw, ObjectKind::ForeignDataWrapper),
        (OT::ObjectForeignServer, ObjectKind::Server),
        (OT::ObjectForeignTable, ObjectKind::Table),
        (OT::ObjectFunction, ObjectKind::Function),
        (OT::ObjectIndex, ObjectKind::Index),
        (OT::ObjectLanguage, ObjectKind::Language),
        (OT::ObjectLargeobject, ObjectKind::LargeObject),
        (OT::ObjectMatview, ObjectKind::MatView),
        (OT::ObjectOpclass, ObjectKind::Operator),
        (OT::ObjectOperator, ObjectKind::Operator),
        (OT::ObjectOpfamily, ObjectKind::Operator),
        (OT::ObjectParameterAcl, ObjectKind::Parameter),
        (OT::ObjectPolicy, ObjectKind::Policy),
        (OT::ObjectProcedure, ObjectKind::Procedure),
        (OT::ObjectPublication, ObjectKind::Publication),
        (OT::ObjectRole, ObjectKind::Role),
        (OT::ObjectRoutine, ObjectKind::Function),
        (OT::ObjectRule, ObjectKind::Rule),
        (OT::ObjectSchema, ObjectKind::Schema),
        (OT::ObjectSequence, ObjectKind::Sequence),
        (OT::ObjectSubscription, ObjectKind::Subscription),
        (OT::ObjectStatisticExt, ObjectKind::Statistics),
        (OT::ObjectTabconstraint, ObjectKind::Constraint),
        (OT::ObjectTable, ObjectKind::Table),
        (OT::ObjectTablespace, ObjectKind::Tablespace),
        (OT::ObjectTrigger, ObjectKind::Trigger),
        (OT::ObjectType, ObjectKind::Type),
        (OT::ObjectView, ObjectKind::View),
    ];
    if [
        OT::ObjectTsconfiguration as i32,
        OT::ObjectTsdictionary as i32,
        OT::ObjectTsparser as i32,
        OT::ObjectTstemplate as i32,
    ]
    .contains(&objtype)
    {
        return ObjectKind::TextSearch;
    }
    if objtype == OT::ObjectUserMapping as i32 {
        return ObjectKind::UserMapping;
    }
    table
        .iter()
        .find(|(o, _)| *o as i32 == objtype)
        .map(|(_, k)| *k)
        .unwrap_or(ObjectKind::Other)
}

pub(super) fn type_name_parts(t: &pb::TypeName) -> Vec<String> {
    let mut parts = strings(&t.names);
    // Unqualified built-in types come back as pg_catalog.x; keep them.
    if parts.len() > 2 {
        parts.remove(0);
    }
    parts
}

/// The object a `COMMENT ON` / `ALTER ... OWNER` / `DROP` object node names;
/// a table carries itself as `table`.
pub(super) fn object_from_node(objtype: i32, node: &pb::Node) -> Option<ObjectRef> {
    let mut obj = object_from_node_inner(objtype, node)?;
    if obj.kind == ObjectKind::Table && obj.table.is_none() {
        obj.table = Some((obj.schema.clone(), obj.name.clone()));
    }
    Some(obj)
}

pub(super) fn object_from_node_inner(objtype: i32, node: &pb::Node) -> Option<ObjectRef> {
    let kind = kind_of(objtype);
    match node.node.as_ref()? {
        N::String(s) => Some(simple(kind, &s.sval)),
        N::Integer(i) => Some(simple(kind, &i.ival.to_string())),
        N::Float(f) => Some(simple(kind, &f.fval)),
        N::ObjectWithArgs(o) => qualified(kind, strings(&o.objname)),
        N::TypeName(t) => qualified(kind, type_name_parts(t)),
        N::RangeVar(rv) => Some(relation_object(kind, rv)),
        N::List(l) => {
            let parts = strings(&l.items);
            match kind {
                ObjectKind::Column
                | ObjectKind::Constraint
                | ObjectKind::Trigger
                | ObjectKind::Rule
                | ObjectKind::Policy => {
                    if objtype == OT::ObjectDomconstraint as i32 {
                        // [TypeName, conname]
                        let mut it = l.items.iter();
                        let dom = match it.next()?.node.as_ref()? {
                            N::TypeName(t) => type_name_parts(t),
                            _ => return None,
                        };
                        let con = strings(&l.items[1..]).pop()?;
                        let mut dom = dom;
                        let dname = dom.pop()?;
                        return Some(ObjectRef {
                            kind,
                            schema: dom.pop(),
                            name: con,
                            table: Some((None, dname)),
                        });
                    }
                    attached(kind, parts)
                }
                ObjectKind::Operator
                    if objtype == OT::ObjectOpfamily as i32
                        || objtype == OT::ObjectOpclass as i32 =>
                {
                    // [access method, schema?, name]
                    qualified(kind, parts.into_iter().skip(1).collect())
                }
                ObjectKind::Cast => {
                    let names: Vec<String> = l
                        .items
                        .iter()
                        .filter_map(|n| match &n.node {
                            Some(N::TypeName(t)) => Some(type_name_parts(t).join(".")),
                            _ => None,
                        })
                        .collect();
                    Some(simple(kind, &names.join(" AS ")))
                }
                _ if parts.is_empty() => {
                    // e.g. a list holding one TypeName
                    l.items.first().and_then(|n| object_from_node(objtype, n))
                }
                _ => qualified(kind, parts),
            }
        }
        _ => None,
    }
}

pub(super) fn grant_object(s: &pb::GrantStmt) -> Option<ObjectRef> {
    let first = s.objects.first()?;
    if s.targtype == pb::GrantTargetType::AclTargetAllInSchema as i32 {
        return object_from_node(OT::ObjectSchema as i32, first);
    }
    let mut obj = object_from_node(s.objtype, first)?;
    if obj.kind == ObjectKind::Table && obj.table.is_none() {
        obj.table = Some((obj.schema.clone(), obj.name.clone()));
    }
    Some(obj)
}

/// Statements that name no roles: the action and the object only.
pub(super) fn objects_only(node: &N) -> (Action, Option<ObjectRef>) {
    let create = Action::Create;
    match node {
        N::CreateStmt(s) => (
            create,
            s.relation
                .as_ref()
                .map(|r| relation_object(ObjectKind::Table, r)),
        ),
        N::CreateForeignTableStmt(s) => (
            create,
            s.base_stmt
                .as_ref()
                .and_then(|b| b.relation.as_ref())
                .map(|r| relation_object(ObjectKind::Table, r)),
        ),
        N::ViewStmt(s) => (
            create,
            s.view
                .as_ref()
                .map(|r| relation_object(ObjectKind::View, r)),
        ),
        N::CreateTableAsStmt(s) => {
            let kind = if s.objtype == OT::ObjectMatview as i32 {
                ObjectKind::MatView
            } else {
                ObjectKind::Table
            };
            (
                create,
                s.into
                    .as_ref()
                    .and_then(|i| i.rel.as_ref())
                    .map(|r| relation_object(kind, r)),
            )
        }
        N::CreateSeqStmt(s) => {
            let obj = s.sequence.as_ref().map(|r| {
                let mut o = relation_object(ObjectKind::Sequence, r);
                o.table = owned_by(&s.options);
                o
            });
            (create, obj)
        }
        N::AlterSeqStmt(s) => {
            let obj = s.sequence.as_ref().map(|r| {
                let mut o = relation_object(ObjectKind::Sequence, r);
                o.table = owned_by(&s.options);
                o
            });
            (Action::Alter, obj)
        }
        N::IndexStmt(s) => (
            create,
            Some(table_bound(
                ObjectKind::Index,
                &s.idxname,
                s.relation.as_ref(),
            )),
        ),
        N::CreateFunctionStmt(s) => {
            let kind = if s.is_procedure {
                ObjectKind::Procedure
            } else {
                ObjectKind::Function
            };
            (create, qualified(kind, strings(&s.funcname)))
        }
        N::DefineStmt(s) => (create, qualified(kind_of(s.kind), strings(&s.defnames))),
        N::CompositeTypeStmt(s) => (
            create,
            s.typevar.as_ref().map(|r| {
                let mut o = relation_object(ObjectKind::Type, r);
                o.table = None;
                o
            }),
        ),
        N::CreateEnumStmt(s) => (create, qualified(ObjectKind::Type, strings(&s.type_name))),
        N::CreateRangeStmt(s) => (create, qualified(ObjectKind::Type, strings(&s.type_name))),
        N::CreateDomainStmt(s) => (
            create,
            qualified(ObjectKind::Domain, strings(&s.domainname)),
        ),
        N::CreateExtensionStmt(s) => (create, Some(simple(ObjectKind::Extension, &s.extname))),
        N::AlterDatabaseStmt(s) => (Action::Alter, Some(simple(ObjectKind::Database, &s.dbname))),
        N::AlterDatabaseSetStmt(s) => {
            (Action::Alter, Some(simple(ObjectKind::Database, &s.dbname)))
        }
        N::CreateTrigStmt(s) => (
            create,
            Some(table_bound(
                ObjectKind::Trigger,
                &s.trigname,
                s.relation.as_ref(),
            )),
        ),
        N::RuleStmt(s) => (
            create,
            Some(table_bound(
                ObjectKind::Rule,
                &s.rulename,
                s.relation.as_ref(),
            )),
        ),
        N::CreateEventTrigStmt(s) => (create, Some(simple(ObjectKind::EventTrigger, &s.trigname))),
        N::CreateFdwStmt(s) => (
            create,
            Some(simple(ObjectKind::ForeignDataWrapper, &s.fdwname)),
        ),
        N::CreateForeignServerStmt(s) => (create, Some(simple(ObjectKind::Server, &s.servername))),
        N::CreatePublicationStmt(s) => (create, Some(simple(ObjectKind::Publication, &s.pubname))),
        N::CreateSubscriptionStmt(s) => {
            (create, Some(simple(ObjectKind::Subscription, &s.subname)))
        }
        N::CreateStatsStmt(s) => (
            create,
            qualified(ObjectKind::Statistics, strings(&s.defnames)),
        ),
        N::CreateCastStmt(s) => {
            let name = [&s.sourcetype, &s.targettype]
                .iter()
                .filter_map(|t| t.as_ref().map(|t| type_name_parts(t).join(".")))
                .collect::<Vec<_>>()
                .join(" AS ");
            (create, Some(simple(ObjectKind::Cast, &name)))
        }
        N::CreatePlangStmt(s) => (create, Some(simple(ObjectKind::Language, &s.plname))),
        N::CreateConversionStmt(s) => (
            create,
            qualified(ObjectKind::Conversion, strings(&s.conversion_name)),
        ),
        N::CreateOpFamilyStmt(s) => (
            create,
            qualified(ObjectKind::Operator, strings(&s.opfamilyname)),
        ),
        N::CreateOpClassStmt(s) => (
            create,
            qualified(ObjectKind::Operator, strings(&s.opclassname)),
        ),
        N::AlterOpFamilyStmt(s) => (
            Action::Alter,
            qualified(ObjectKind::Operator, strings(&s.opfamilyname)),
        ),
        N::CreateTransformStmt(s) => {
            let ty = s
                .type_name
                .as_ref()
                .map(|t| type_name_parts(t).join("."))
                .unwrap_or_default();
            (
                create,
                Some(simple(
                    ObjectKind::Transform,
                    &format!("{ty} LANGUAGE {}", s.lang),
                )),
            )
        }
        N::CreateAmStmt(s) => (create, Some(simple(ObjectKind::AccessMethod, &s.amname))),
        N::AlterFunctionStmt(s) => (
            Action::Alter,
            s.func
                .as_ref()
                .and_then(|f| qualified(kind_of(s.objtype), strings(&f.objname))),
        ),
        N::AlterDomainStmt(s) => (
            Action::Alter,
            qualified(ObjectKind::Domain, strings(&s.type_name)),
        ),
        N::AlterEnumStmt(s) => (
            Action::Alter,
            qualified(ObjectKind::Type, strings(&s.type_name)),
        ),
        N::AlterTsconfigurationStmt(s) => (
            Action::Alter,
            qualified(ObjectKind::TextSearch, strings(&s.cfgname)),
        ),
        N::AlterExtensionStmt(s) => (
            Action::Alter,
            Some(simple(ObjectKind::Extension, &s.extname)),
        ),
        N::AlterForeignServerStmt(s) => (
            Action::Alter,
            Some(simple(ObjectKind::Server, &s.servername)),
        ),
        N::AlterFdwStmt(s) => (
            Action::Alter,
            Some(simple(ObjectKind::ForeignDataWrapper, &s.fdwname)),
        ),
        N::AlterPublicationStmt(s) => (
            Action::Alter,
            Some(simple(ObjectKind::Publication, &s.pubname)),
        ),
        N::AlterSubscriptionStmt(s) => (
            Action::Alter,
            Some(simple(ObjectKind::Subscription, &s.subname)),
        ),
        N::AlterEventTrigStmt(s) => (
            Action::Alter,
            Some(simple(ObjectKind::EventTrigger, &s.trigname)),
        ),
        N::AlterStatsStmt(s) => (
            Action::Alter,
            qualified(ObjectKind::Statistics, strings(&s.defnames)),
        ),
        N::AlterTableSpaceOptionsStmt(s) => (
            Action::Alter,
            Some(simple(ObjectKind::Tablespace, &s.tablespacename)),
        ),
        N::AlterObjectSchemaStmt(s) => {
            let kind = kind_of(s.object_type);
            let obj = match &s.relation {
                Some(rv) => Some(relation_object(kind, rv)),
                None => s
                    .object
                    .as_deref()
                    .and_then(|o| object_from_node(s.object_type, o)),
            };
            (Action::Alter, obj)
        }
        N::DropStmt(s) => (
            Action::Drop,
            s.objects
                .first()
                .and_then(|o| object_from_node(s.remove_type, o)),
        ),
        N::CopyStmt(s) => (
            Action::Copy,
            s.relation
                .as_ref()
                .map(|r| relation_object(ObjectKind::Table, r)),
        ),
        N::InsertStmt(s) => (
            Action::Insert,
            s.relation
                .as_ref()
                .map(|r| relation_object(ObjectKind::Table, r)),
        ),
        N::SelectStmt(s) => (Action::Select, select_object(s)),
        N::VariableSetStmt(_) => (Action::Set, None),
        _ => (Action::Other, None),
    }
}

/// The `OWNED BY [schema.]table.column` table of a sequence's options.
pub(super) fn owned_by(options: &[pb::Node]) -> Option<(Option<String>, String)> {
    options.iter().find_map(|o| match &o.node {
        Some(N::DefElem(d)) if d.defname == "owned_by" => {
            let mut parts = strings(list_items(d.arg.as_deref()));
            if parts.len() < 2 {
                return None; // OWNED BY NONE
            }
            parts.pop();
            let table = parts.pop()?;
            Some((parts.pop(), table))
        }
        _ => None,
    })
}

/// `SELECT pg_catalog.setval('s.seq', ...)` names a sequence and
/// `SELECT pg_catalog.lo_create('oid')` a large object; other SELECTs none.
pub(super) fn select_object(s: &pb::SelectStmt) -> Option<ObjectRef> {
    let [target] = s.target_list.as_slice() else {
        return None;
    };
    let Some(N::ResTarget(rt)) = &target.node else {
        return None;
    };
    let Some(N::FuncCall(f)) = rt.val.as_deref().and_then(|v| v.node.as_ref()) else {
        return None;
    };
    let fname = strings(&f.funcname).pop()?;
    let first = f.args.first()?;
    let text = match &first.node {
        Some(N::AConst(c)) => match &c.val {
            Some(pb::a_const::Val::Sval(v)) => v.sval.clone(),
            Some(pb::a_const::Val::Ival(i)) => i.ival.to_string(),
            Some(pb::a_const::Val::Fval(f)) => f.fval.clone(),
            _ => return None,
        },
        _ => return None,
    };
    match fname.as_str() {
        "setval" => qualified(ObjectKind::Sequence, split_qualified(&text)?),
        "lo_create" => Some(simple(ObjectKind::LargeObject, &text)),
        _ => None,
    }
}

/// Split a qualified name written as text (`app."My Seq"`) into its parts,
/// dequoting and folding case as the server's regclass input does.
pub(super) fn split_qualified(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                part.push(c.to_ascii_lowercase());
                chars.next();
            }
        }
        parts.push(part);
        match chars.next() {
            None => return Some(parts),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}
