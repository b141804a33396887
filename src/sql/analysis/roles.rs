//! The role references of each kind of statement, read from its parse
//! tree and located in its tokens.

use super::*;

impl Walk<'_> {
    pub(super) fn statement(&mut self, node: &N) -> AnalysisResult<(Action, Option<ObjectRef>)> {
        Ok(match node {
            N::AlterOwnerStmt(s) => {
                if let Some(owner) = &s.newowner {
                    self.push_spec(RoleRefKind::Owner, owner)?;
                }
                let obj = match &s.relation {
                    Some(rv) => Some(relation_object(kind_of(s.object_type), rv)),
                    None => s
                        .object
                        .as_deref()
                        .and_then(|o| object_from_node(s.object_type, o)),
                };
                (Action::Alter, obj)
            }
            N::AlterTableStmt(s) => self.alter_table(s)?,
            N::GrantStmt(s) => {
                let is_param = s.objtype == OT::ObjectParameterAcl as i32;
                let kind = if is_param {
                    RoleRefKind::ParameterGrantee
                } else {
                    RoleRefKind::Grantee
                };
                self.push_spec_list(kind, &s.grantees)?;
                if let Some(g) = &s.grantor {
                    self.push_granted_by(g)?;
                }
                let action = if s.is_grant {
                    Action::Grant
                } else {
                    Action::Revoke
                };
                (action, grant_object(s))
            }
            N::GrantRoleStmt(s) => self.grant_role(s)?,
            N::AlterDefaultPrivilegesStmt(s) => {
                let mut schema = None;
                for opt in &s.options {
                    if let Some(N::DefElem(d)) = &opt.node {
                        if d.defname == "roles" {
                            let items = list_items(d.arg.as_deref());
                            self.push_spec_list(RoleRefKind::DefaultPrivilegesFor, items)?;
                        } else if d.defname == "schemas" {
                            // pg_dump writes one schema; default privileges
                            // in a schema belong to it.
                            schema = strings(list_items(d.arg.as_deref())).into_iter().next();
                        }
                    }
                }
                if let Some(g) = &s.action {
                    self.push_spec_list(RoleRefKind::DefaultPrivilegesGrantee, &g.grantees)?;
                    if let Some(gb) = &g.grantor {
                        self.push_granted_by(gb)?;
                    }
                }
                (
                    Action::Alter,
                    Some(ObjectRef {
                        kind: ObjectKind::Acl,
                        schema,
                        name: "DEFAULT PRIVILEGES".to_string(),
                        table: None,
                    }),
                )
            }
            N::CreatePolicyStmt(s) => {
                // Without a TO clause the parser supplies PUBLIC with no
                // location: nothing in the text names a role then.
                let written: Vec<pb::Node> = s
                    .roles
                    .iter()
                    .filter(|n| !matches!(&n.node, Some(N::RoleSpec(r)) if r.location < 0))
                    .cloned()
                    .collect();
                self.push_spec_list(RoleRefKind::PolicyRole, &written)?;
                (
                    Action::Create,
                    Some(table_bound(
                        ObjectKind::Policy,
                        &s.policy_name,
                        s.table.as_ref(),
                    )),
                )
            }
            N::AlterPolicyStmt(s) => {
                self.push_spec_list(RoleRefKind::PolicyRole, &s.roles)?;
                (
                    Action::Alter,
                    Some(table_bound(
                        ObjectKind::Policy,
                        &s.policy_name,
                        s.table.as_ref(),
                    )),
                )
            }
            N::CreateUserMappingStmt(s) => {
                self.user_mapping(s.user.as_ref(), &s.servername, Action::Create)?
            }
            N::AlterUserMappingStmt(s) => {
                self.user_mapping(s.user.as_ref(), &s.servername, Action::Alter)?
            }
            N::DropUserMappingStmt(s) => {
                self.user_mapping(s.user.as_ref(), &s.servername, Action::Drop)?
            }
            N::VariableSetStmt(s) => {
                self.variable_set(s)?;
                (Action::Set, None)
            }
            N::CreateRoleStmt(s) => self.create_role(s)?,
            N::AlterRoleStmt(s) => {
                let is_group_members = s
                    .options
                    .iter()
                    .any(|o| matches!(&o.node, Some(N::DefElem(d)) if d.defname == "rolemembers"));
                if let Some(r) = &s.role {
                    let kind = if is_group_members {
                        RoleRefKind::MembershipRole
                    } else {
                        RoleRefKind::RoleDefinition
                    };
                    self.push_spec(kind, r)?;
                }
                self.role_options(&s.options)?;
                (Action::Alter, role_object(s.role.as_ref()))
            }
            N::AlterRoleSetStmt(s) => {
                if let Some(r) = &s.role {
                    let kind = if s.database.is_empty() {
                        RoleRefKind::RoleSetting
                    } else {
                        RoleRefKind::RoleInDatabase
                    };
                    self.push_spec(kind, r)?;
                }
                (Action::Alter, role_object(s.role.as_ref()))
            }
            N::DropRoleStmt(s) => {
                self.push_spec_list(RoleRefKind::RoleDefinition, &s.roles)?;
                let first = s.roles.first().and_then(|n| match &n.node {
                    Some(N::RoleSpec(r)) => Some(r),
                    _ => None,
                });
                (Action::Drop, role_object(first))
            }
            N::RenameStmt(s) => self.rename(s)?,
            N::CommentStmt(s) => {
                if s.objtype == OT::ObjectRole as i32 {
                    self.role_after_on_role(RoleRefKind::CommentOnRole, s.object.as_deref())?;
                }
                let obj = s
                    .object
                    .as_deref()
                    .and_then(|o| object_from_node(s.objtype, o));
                (Action::Comment, obj)
            }
            N::SecLabelStmt(s) => {
                if s.objtype == OT::ObjectRole as i32 {
                    self.role_after_on_role(RoleRefKind::SecurityLabelOnRole, s.object.as_deref())?;
                }
                let obj = s
                    .object
                    .as_deref()
                    .and_then(|o| object_from_node(s.objtype, o));
                (Action::Comment, obj)
            }
            N::CreateTableSpaceStmt(s) => {
                if let Some(o) = &s.owner {
                    self.push_spec(RoleRefKind::TablespaceOwner, o)?;
                }
                (
                    Action::Create,
                    Some(simple(ObjectKind::Tablespace, &s.tablespacename)),
                )
            }
            N::CreateSchemaStmt(s) => {
                let mut name = s.schemaname.clone();
                if let Some(a) = &s.authrole {
                    self.push_spec(RoleRefKind::SchemaAuthorization, a)?;
                    if name.is_empty() {
                        name = a.rolename.clone();
                    }
                }
                // Schema elements may themselves be GRANTs and the like.
                for elt in &s.schema_elts {
                    if let Some(n) = &elt.node {
                        self.statement(n)?;
                    }
                }
                (Action::Create, Some(simple(ObjectKind::Schema, &name)))
            }
            N::ReassignOwnedStmt(s) => {
                self.push_spec_list(RoleRefKind::ReassignOwned, &s.roles)?;
                if let Some(n) = &s.newrole {
                    self.push_spec(RoleRefKind::ReassignOwnedTo, n)?;
                }
                (Action::Alter, None)
            }
            N::DropOwnedStmt(s) => {
                self.push_spec_list(RoleRefKind::DropOwned, &s.roles)?;
                (Action::Drop, None)
            }
            N::CreatedbStmt(s) => {
                for opt in &s.options {
                    if let Some(N::DefElem(d)) = &opt.node {
                        if d.defname == "owner" {
                            self.createdb_owner(d)?;
                        }
                    }
                }
                (
                    Action::Create,
                    Some(simple(ObjectKind::Database, &s.dbname)),
                )
            }
            other => objects_only(other),
        })
    }

    pub(super) fn alter_table(
        &mut self,
        s: &pb::AlterTableStmt,
    ) -> AnalysisResult<(Action, Option<ObjectRef>)> {
        let Some(rv) = &s.relation else {
            return Ok((Action::Alter, None));
        };
        let (schema, name) = rv_name(rv);
        let mut obj: Option<ObjectRef> = None;
        for c in &s.cmds {
            let Some(N::AlterTableCmd(cmd)) = &c.node else {
                continue;
            };
            let st = cmd.subtype;
            if st == pb::AlterTableType::AtChangeOwner as i32 {
                if let Some(o) = &cmd.newowner {
                    self.push_spec(RoleRefKind::Owner, o)?;
                }
            } else if obj.is_none() && st == pb::AlterTableType::AtAddConstraint as i32 {
                if let Some(N::Constraint(con)) = cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
                    obj = Some(ObjectRef {
                        kind: ObjectKind::Constraint,
                        schema: schema.clone(),
                        name: con.conname.clone(),
                        table: Some((schema.clone(), name.clone())),
                    });
                }
            } else if obj.is_none() && st == pb::AlterTableType::AtColumnDefault as i32 {
                obj = Some(ObjectRef {
                    kind: ObjectKind::Default,
                    schema: schema.clone(),
                    name: cmd.name.clone(),
                    table: Some((schema.clone(), name.clone())),
                });
            }
        }
        let obj = obj.unwrap_or_else(|| relation_object(kind_of(s.objtype), rv));
        Ok((Action::Alter, Some(obj)))
    }

    pub(super) fn grant_role(
        &mut self,
        s: &pb::GrantRoleStmt,
    ) -> AnalysisResult<(Action, Option<ObjectRef>)> {
        // The granted roles are AccessPriv nodes without locations: walk
        // the tokens `GRANT|REVOKE [opt OPTION FOR] r1, r2, ... TO|FROM`.
        let mut i = 1;
        if !s.is_grant && self.is_kw(2, "option")? && self.is_kw(3, "for")? {
            i = 4;
        }
        let first = self.refs.len();
        for (n, node) in s.granted_roles.iter().enumerate() {
            let Some(N::AccessPriv(p)) = &node.node else {
                return Err(err("unexpected granted role node"));
            };
            if n > 0 {
                if !self.is_comma(i)? {
                    return Err(err("cannot locate the granted role list"));
                }
                i += 1;
            }
            self.push_token(RoleRefKind::MembershipRole, i, &p.priv_name)?;
            i += 1;
        }
        self.mark_list(first);
        self.push_spec_list(RoleRefKind::Member, &s.grantee_roles)?;
        if let Some(g) = &s.grantor {
            self.push_granted_by(g)?;
        }
        let obj = s.granted_roles.first().and_then(|n| match &n.node {
            Some(N::AccessPriv(p)) => Some(simple(ObjectKind::Role, &p.priv_name)),
            _ => None,
        });
        let action = if s.is_grant {
            Action::Grant
        } else {
            Action::Revoke
        };
        Ok((action, obj))
    }

    pub(super) fn user_mapping(
        &mut self,
        user: Option<&pb::RoleSpec>,
        server: &str,
        action: Action,
    ) -> AnalysisResult<(Action, Option<ObjectRef>)> {
        if let Some(u) = user {
            self.push_spec(RoleRefKind::UserMapping, u)?;
        }
        Ok((action, Some(simple(ObjectKind::UserMapping, server))))
    }

    pub(super) fn variable_set(&mut self, s: &pb::VariableSetStmt) -> AnalysisResult<()> {
        if s.kind != pb::VariableSetKind::VarSetValue as i32 {
            return Ok(());
        }
        let kind = match s.name.as_str() {
            "session_authorization" => RoleRefKind::SessionAuthorization,
            "role" => RoleRefKind::SetRole,
            _ => return Ok(()),
        };
        let [arg] = s.args.as_slice() else {
            return Ok(());
        };
        let Some(N::AConst(c)) = &arg.node else {
            return Ok(());
        };
        let Some(pb::a_const::Val::Sval(v)) = &c.val else {
            return Ok(());
        };
        if kind == RoleRefKind::SetRole && v.sval == "none" {
            return Ok(());
        }
        let i = self.tok_at(c.location)?;
        let t = self.tok(i)?;
        let mut role = v.sval.clone();
        let (matches, literal) = if t.token == Token::Sconst as i32 {
            let ok = self.literal_value(&t).as_deref() == Some(v.sval.as_str());
            if ok && !self.std_strings {
                // The parser read the literal with standard_conforming_strings
                // on; the server of this dump reads backslash escapes.
                role = literal_value(self.tok_text(&t), true)
                    .ok_or_else(|| err("cannot decode the role name literal"))?;
            }
            (ok, true)
        } else {
            (
                self.ident_value(&t).as_deref() == Some(v.sval.as_str()),
                false,
            )
        };
        if !matches {
            return Err(err(format!(
                "role name {:?} does not match its token {:?}",
                v.sval,
                self.tok_text(&t)
            )));
        }
        self.push(kind, RoleName::Named(role), Self::span(&t), literal);
        Ok(())
    }

    pub(super) fn create_role(
        &mut self,
        s: &pb::CreateRoleStmt,
    ) -> AnalysisResult<(Action, Option<ObjectRef>)> {
        // CREATE ROLE|USER|GROUP name: the name is the third token.
        self.push_token(RoleRefKind::RoleDefinition, 2, &s.role)?;
        self.role_options(&s.options)?;
        Ok((Action::Create, Some(simple(ObjectKind::Role, &s.role))))
    }

    /// Role lists inside CREATE/ALTER ROLE options.
    pub(super) fn role_options(&mut self, options: &[pb::Node]) -> AnalysisResult<()> {
        for opt in options {
            let Some(N::DefElem(d)) = &opt.node else {
                continue;
            };
            let kind = match d.defname.as_str() {
                "addroleto" => RoleRefKind::MembershipRole,
                "rolemembers" | "adminmembers" => RoleRefKind::Member,
                _ => continue,
            };
            self.push_spec_list(kind, list_items(d.arg.as_deref()))?;
        }
        Ok(())
    }

    pub(super) fn rename(
        &mut self,
        s: &pb::RenameStmt,
    ) -> AnalysisResult<(Action, Option<ObjectRef>)> {
        if s.rename_type != OT::ObjectRole as i32 {
            let obj = match &s.relation {
                Some(rv) => Some(relation_object(kind_of(s.rename_type), rv)),
                None => s
                    .object
                    .as_deref()
                    .and_then(|o| object_from_node(s.rename_type, o)),
            };
            return Ok((Action::Alter, obj));
        }
        // ALTER ROLE|USER|GROUP old RENAME TO new
        self.push_token(RoleRefKind::RoleDefinition, 2, &s.subname)?;
        if !(self.is_kw(3, "rename")? && self.is_kw(4, "to")?) {
            return Err(err("cannot locate the new role name"));
        }
        self.push_token(RoleRefKind::RoleNewName, 5, &s.newname)?;
        Ok((Action::Alter, Some(simple(ObjectKind::Role, &s.subname))))
    }

    /// `COMMENT ON ROLE r` / `SECURITY LABEL [FOR p] ON ROLE r`: the name is
    /// the token after the first `ON ROLE`.
    pub(super) fn role_after_on_role(
        &mut self,
        kind: RoleRefKind,
        object: Option<&pb::Node>,
    ) -> AnalysisResult<()> {
        let Some(N::String(name)) = object.and_then(|o| o.node.as_ref()) else {
            return Err(err("unexpected role object"));
        };
        let Some(on) = self.find_kw(0, "on")? else {
            return Err(err("cannot locate ON ROLE"));
        };
        if !self.is_kw(on + 1, "role")? {
            return Err(err("cannot locate ON ROLE"));
        }
        self.push_token(kind, on + 2, &name.sval)
    }

    /// `CREATE DATABASE d [WITH] OWNER [=] r`.
    pub(super) fn createdb_owner(&mut self, d: &pb::DefElem) -> AnalysisResult<()> {
        let Some(N::String(name)) = d.arg.as_deref().and_then(|a| a.node.as_ref()) else {
            return Ok(()); // OWNER = DEFAULT
        };
        let mut i = self.tok_at(d.location)?;
        if !self.is_kw(i, "owner")? {
            return Err(err("cannot locate the database owner"));
        }
        i += 1;
        if self.tok(i)?.token == Token::Ascii61 as i32 {
            i += 1;
        }
        self.push_token(RoleRefKind::Owner, i, &name.sval)
    }
}
