//! The [`crate::Directory`] of both databases, written once.
//!
//! Unlike the archive's append and search, nothing here is large or hot enough to want
//! backend-specific SQL: the statements (in `shared.rs`) run unchanged on SQLite and
//! PostgreSQL. What differs is only the type of the pool, the transaction and the function
//! that appends the action entry, so the implementation is one macro expanded per backend
//! (`sqlite_directory.rs`, `postgres_directory.rs`), which keeps the two from drifting apart
//! the way two hand-kept copies would. Async code generic over `sqlx::Database` would need
//! executor, encode and decode bounds on every function, and still fight the `Send` bounds
//! `async_trait` puts on its futures.
//!
//! Every write takes the backend's write lock first (`BEGIN IMMEDIATE` on SQLite, the chain's
//! advisory lock on PostgreSQL), so the existence and uniqueness checks made inside the
//! transaction cannot be raced: every writer of these tables, but session expiry (which checks
//! nothing), also extends the chain.

/// Implements [`crate::Directory`] for `$store`, whose database is `$db` with connections of
/// type `$conn`; `$append_action(&mut transaction, &AuditRecord, Timestamp) -> Result<u64>`
/// appends an action entry and its row in `actions`. Expands to a module of its own, so every
/// path given must be absolute.
macro_rules! impl_directory {
    ($store:ty, $db:ty, $conn:ty, $append_action:path) => {
        mod directory {
            use async_trait::async_trait;
            use jiff::Timestamp;
            use lifeguard_core::archive::AuditRecord;
            use sqlx::QueryBuilder;

            use $crate::directory::{
                Account, AuditEntry, AuditFilter, Department, Directory, Lockout, LoginFailures,
                NewAccount, NewPerson, NewSession, NewToken, Person, PersonPatch, Session, Setting,
                Token,
            };
            use $crate::error::StoreError;
            use $crate::plan::{from_micros, micros};
            use $crate::shared::{
                self, AccountRow, AuditRow, PersonRow, SessionRow, TokenRow, TokenSecretRow, db,
            };

            async fn person_row(conn: &mut $conn, id: i64) -> Result<Option<Person>, StoreError> {
                sqlx::query_as::<_, PersonRow>(shared::PERSON)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db("reading a person"))?
                    .map(PersonRow::person)
                    .transpose()
            }

            /// Fails unless the department exists.
            async fn department_exists(conn: &mut $conn, id: &str) -> Result<(), StoreError> {
                let count: i64 = sqlx::query_scalar(shared::DEPARTMENT_EXISTS)
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db("looking up a department"))?;
                if count == 0 {
                    return Err(StoreError::invalid(format!("`department`: no department `{id}`")));
                }
                Ok(())
            }

            /// The person named by `field`, which must exist.
            async fn existing_person(
                conn: &mut $conn,
                field: &str,
                id: i64,
            ) -> Result<Person, StoreError> {
                person_row(conn, id).await?.ok_or_else(|| {
                    StoreError::invalid(format!("`{field}`: no person with id {id}"))
                })
            }

            /// The person named by `field`, who must exist and be active.
            async fn active_person(
                conn: &mut $conn,
                field: &str,
                id: i64,
            ) -> Result<Person, StoreError> {
                let person = existing_person(conn, field, id).await?;
                if !person.active {
                    return Err(StoreError::invalid(format!(
                        "`{field}`: {} is not active",
                        person.login
                    )));
                }
                Ok(person)
            }

            async fn token_row(conn: &mut $conn, id: &str) -> Result<Option<Token>, StoreError> {
                sqlx::query_as::<_, TokenRow>(shared::TOKEN)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db("reading a token"))?
                    .map(TokenRow::token)
                    .transpose()
            }

            #[async_trait]
            impl Directory for $store {
                async fn record_action(
                    &self,
                    audit: &AuditRecord,
                    at: Timestamp,
                ) -> Result<u64, StoreError> {
                    shared::check_audit(audit)?;
                    let mut tx = self.begin().await?;
                    let seq = $append_action(&mut tx, audit, at).await?;
                    tx.commit().await.map_err(db("committing an action"))?;
                    Ok(seq)
                }

                async fn audit_trail(
                    &self,
                    filter: &AuditFilter,
                ) -> Result<Vec<AuditEntry>, StoreError> {
                    if shared::audit_filter_is_empty(filter) {
                        return Ok(Vec::new());
                    }
                    let mut builder = QueryBuilder::<$db>::new(shared::AUDIT_TRAIL);
                    shared::push_audit_filters(&mut builder, filter);
                    builder
                        .build_query_as::<AuditRow>()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("reading the audit trail"))?
                        .into_iter()
                        .map(AuditRow::entry)
                        .collect()
                }

                async fn departments(&self) -> Result<Vec<Department>, StoreError> {
                    let rows: Vec<(String, String)> = sqlx::query_as(shared::DEPARTMENTS)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("reading departments"))?;
                    Ok(rows.into_iter().map(|(id, name)| Department { id, name }).collect())
                }

                async fn put_department(
                    &self,
                    department: &Department,
                    audit: &AuditRecord,
                    at: Timestamp,
                ) -> Result<(), StoreError> {
                    shared::check_department(department)?;
                    shared::check_audit(audit)?;
                    let mut tx = self.begin().await?;
                    sqlx::query(shared::PUT_DEPARTMENT)
                        .bind(&department.id)
                        .bind(&department.name)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("writing a department"))?;
                    $append_action(&mut tx, audit, at).await?;
                    tx.commit().await.map_err(db("committing a department"))?;
                    Ok(())
                }

                async fn people(&self) -> Result<Vec<Person>, StoreError> {
                    sqlx::query_as::<_, PersonRow>(shared::PEOPLE)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("reading people"))?
                        .into_iter()
                        .map(PersonRow::person)
                        .collect()
                }

                async fn person(&self, id: i64) -> Result<Option<Person>, StoreError> {
                    let mut conn = self.pool.acquire().await.map_err(db("reading a person"))?;
                    person_row(&mut conn, id).await
                }

                async fn person_by_login(&self, login: &str) -> Result<Option<Person>, StoreError> {
                    // No login holds U+0000, which PostgreSQL would refuse to compare.
                    if login.contains('\0') {
                        return Ok(None);
                    }
                    sqlx::query_as::<_, PersonRow>(shared::PERSON_BY_LOGIN)
                        .bind(login)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db("reading a person"))?
                        .map(PersonRow::person)
                        .transpose()
                }

                async fn password_hash(&self, id: i64) -> Result<Option<String>, StoreError> {
                    let hash: Option<Option<String>> = sqlx::query_scalar(shared::PASSWORD_HASH)
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db("reading a password hash"))?;
                    Ok(hash.flatten())
                }

                async fn team(&self, manager: i64) -> Result<Vec<Person>, StoreError> {
                    sqlx::query_as::<_, PersonRow>(shared::TEAM)
                        .bind(manager)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("reading a team"))?
                        .into_iter()
                        .map(PersonRow::person)
                        .collect()
                }

                async fn create_person(
                    &self,
                    person: &NewPerson,
                    audit: &AuditRecord,
                    at: Timestamp,
                ) -> Result<Person, StoreError> {
                    shared::check_new_person(person)?;
                    shared::check_audit(audit)?;
                    let mut tx = self.begin().await?;
                    let taken: Option<i64> =
                        sqlx::query_scalar("SELECT id FROM people WHERE login = $1")
                            .bind(&person.login)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db("looking up a login"))?;
                    if taken.is_some() {
                        return Err(StoreError::invalid(format!(
                            "`login`: `{}` is taken",
                            person.login
                        )));
                    }
                    if let Some(department) = &person.department {
                        department_exists(&mut tx, department).await?;
                    }
                    if let Some(manager) = person.manager {
                        existing_person(&mut tx, "manager", manager).await?;
                    }
                    let created_at = micros(at);
                    let id: i64 = sqlx::query_scalar(shared::INSERT_PERSON)
                        .bind(&person.login)
                        .bind(&person.name)
                        .bind(&person.email)
                        .bind(person.department.as_deref())
                        .bind(person.manager)
                        .bind(person.role.name())
                        .bind(person.area.as_deref())
                        .bind(person.password_hash.as_deref())
                        .bind(created_at)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db("writing a person"))?;
                    $append_action(&mut tx, audit, at).await?;
                    tx.commit().await.map_err(db("committing a person"))?;
                    Ok(Person {
                        id,
                        login: person.login.clone(),
                        name: person.name.clone(),
                        email: person.email.clone(),
                        department: person.department.clone(),
                        manager: person.manager,
                        role: person.role,
                        area: person.area.clone(),
                        active: true,
                        created_at: from_micros(created_at),
                    })
                }

                async fn update_person(
                    &self,
                    id: i64,
                    patch: &PersonPatch,
                    audit: &AuditRecord,
                    at: Timestamp,
                ) -> Result<Person, StoreError> {
                    shared::check_audit(audit)?;
                    let mut tx = self.begin().await?;
                    let person = person_row(&mut tx, id)
                        .await?
                        .ok_or_else(|| StoreError::invalid(format!("no person with id {id}")))?;
                    let merged = shared::merge(&person, patch)?;
                    if let Some(Some(department)) = &patch.department {
                        department_exists(&mut tx, department).await?;
                    }
                    if let Some(Some(manager)) = patch.manager {
                        let above = existing_person(&mut tx, "manager", manager).await?;
                        let loops: i64 = sqlx::query_scalar(shared::MANAGES)
                            .bind(manager)
                            .bind(id)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(db("checking the chain of managers"))?;
                        if loops > 0 {
                            return Err(StoreError::invalid(format!(
                                "`manager`: {} reports to {}, so {} cannot report to them",
                                above.login, person.login, person.login
                            )));
                        }
                    }
                    sqlx::query(shared::UPDATE_PERSON)
                        .bind(&merged.name)
                        .bind(&merged.email)
                        .bind(merged.department.as_deref())
                        .bind(merged.manager)
                        .bind(merged.role.name())
                        .bind(merged.area.as_deref())
                        .bind(merged.active)
                        .bind(patch.password_hash.as_deref())
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("changing a person"))?;
                    if patch.active == Some(false) {
                        // Deactivation takes effect at once, not when their sessions run out.
                        sqlx::query(shared::END_SESSIONS_OF)
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(db("ending a person's sessions"))?;
                        sqlx::query(shared::REVOKE_TOKENS_OF)
                            .bind(id)
                            .bind(micros(at))
                            .execute(&mut *tx)
                            .await
                            .map_err(db("revoking a person's tokens"))?;
                    }
                    $append_action(&mut tx, audit, at).await?;
                    tx.commit().await.map_err(db("committing a change to a person"))?;
                    Ok(Person {
                        name: merged.name,
                        email: merged.email,
                        department: merged.department,
                        manager: merged.manager,
                        role: merged.role,
                        area: merged.area,
                        active: merged.active,
                        ..person
                    })
                }

                async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
                    let rows = sqlx::query_as::<_, AccountRow>(shared::ACCOUNTS)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("reading accounts"))?;
                    Ok(rows.into_iter().map(Account::from).collect())
                }

                async fn create_account(
                    &self,
                    account: &NewAccount,
                    audit: &AuditRecord,
                    at: Timestamp,
                ) -> Result<Account, StoreError> {
                    shared::check_account(account)?;
                    shared::check_audit(audit)?;
                    let mut tx = self.begin().await?;
                    let taken: i64 = sqlx::query_scalar(shared::ACCOUNT_EXISTS)
                        .bind(&account.platform)
                        .bind(&account.handle)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db("looking up an account"))?;
                    if taken > 0 {
                        return Err(StoreError::invalid(format!(
                            "`handle`: the account `{}` on `{}` already exists",
                            account.handle, account.platform
                        )));
                    }
                    if let Some(owner) = account.owner {
                        existing_person(&mut tx, "owner", owner).await?;
                    }
                    if let Some(department) = &account.department {
                        department_exists(&mut tx, department).await?;
                    }
                    let created_at = micros(at);
                    let id: i64 = sqlx::query_scalar(shared::INSERT_ACCOUNT)
                        .bind(&account.platform)
                        .bind(&account.handle)
                        .bind(&account.name)
                        .bind(account.owner)
                        .bind(account.department.as_deref())
                        .bind(created_at)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db("writing an account"))?;
                    $append_action(&mut tx, audit, at).await?;
                    tx.commit().await.map_err(db("committing an account"))?;
                    Ok(Account {
                        id,
                        platform: account.platform.clone(),
                        handle: account.handle.clone(),
                        name: account.name.clone(),
                        owner: account.owner,
                        department: account.department.clone(),
                        created_at: from_micros(created_at),
                    })
                }

                async fn tokens(&self, person: Option<i64>) -> Result<Vec<Token>, StoreError> {
                    let query = match person {
                        Some(person) => {
                            sqlx::query_as::<_, TokenRow>(shared::TOKENS_OF).bind(person)
                        }
                        None => sqlx::query_as::<_, TokenRow>(shared::TOKENS),
                    };
                    query
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("reading tokens"))?
                        .into_iter()
                        .map(TokenRow::token)
                        .collect()
                }

                async fn create_token(
                    &self,
                    token: &NewToken,
                    audit: &AuditRecord,
                    at: Timestamp,
                ) -> Result<Token, StoreError> {
                    shared::check_token(token)?;
                    shared::check_audit(audit)?;
                    let mut tx = self.begin().await?;
                    if token_row(&mut tx, &token.id).await?.is_some() {
                        return Err(StoreError::invalid(format!(
                            "`token id`: `{}` is taken",
                            token.id
                        )));
                    }
                    active_person(&mut tx, "person", token.person).await?;
                    let created_at = micros(at);
                    let scopes = shared::scope_names(&token.scopes);
                    sqlx::query(shared::INSERT_TOKEN)
                        .bind(&token.id)
                        .bind(&token.name)
                        .bind(token.person)
                        .bind(&scopes)
                        .bind(token.secret_sha256.as_slice())
                        .bind(created_at)
                        .bind(token.expires_at.map(micros))
                        .execute(&mut *tx)
                        .await
                        .map_err(db("writing a token"))?;
                    $append_action(&mut tx, audit, at).await?;
                    tx.commit().await.map_err(db("committing a token"))?;
                    Ok(Token {
                        id: token.id.clone(),
                        name: token.name.clone(),
                        person: token.person,
                        scopes: shared::distinct_scopes(&token.scopes),
                        created_at: from_micros(created_at),
                        expires_at: token.expires_at.map(|at| from_micros(micros(at))),
                        revoked_at: None,
                    })
                }

                async fn revoke_token(
                    &self,
                    id: &str,
                    audit: &AuditRecord,
                    at: Timestamp,
                ) -> Result<Token, StoreError> {
                    shared::check_audit(audit)?;
                    let missing = || StoreError::invalid(format!("`token id`: no token `{id}`"));
                    if id.contains('\0') {
                        return Err(missing());
                    }
                    let mut tx = self.begin().await?;
                    let mut token = token_row(&mut tx, id).await?.ok_or_else(missing)?;
                    if token.revoked_at.is_some() {
                        return Err(StoreError::invalid(format!(
                            "`token id`: token `{id}` is already revoked"
                        )));
                    }
                    let revoked_at = micros(at);
                    sqlx::query(shared::REVOKE_TOKEN)
                        .bind(id)
                        .bind(revoked_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("revoking a token"))?;
                    $append_action(&mut tx, audit, at).await?;
                    tx.commit().await.map_err(db("committing a token's revocation"))?;
                    token.revoked_at = Some(from_micros(revoked_at));
                    Ok(token)
                }

                async fn token_secret(
                    &self,
                    id: &str,
                ) -> Result<Option<(Token, [u8; 32], Person)>, StoreError> {
                    if id.contains('\0') {
                        return Ok(None);
                    }
                    sqlx::query_as::<_, TokenSecretRow>(shared::TOKEN_SECRET)
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db("reading a token"))?
                        .map(TokenSecretRow::decode)
                        .transpose()
                }

                async fn create_session(
                    &self,
                    session: &NewSession,
                    audit: &AuditRecord,
                    at: Timestamp,
                ) -> Result<(), StoreError> {
                    shared::check_session(session, at)?;
                    shared::check_audit(audit)?;
                    let mut tx = self.begin().await?;
                    let person = active_person(&mut tx, "person", session.person).await?;
                    sqlx::query(shared::INSERT_SESSION)
                        .bind(session.id_sha256.as_slice())
                        .bind(session.person)
                        .bind(&session.csrf)
                        .bind(micros(at))
                        .bind(micros(session.expires_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(db("writing a session"))?;
                    sqlx::query(shared::CLEAR_LOGIN_FAILURES)
                        .bind(&person.login)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("clearing failed sign-ins"))?;
                    $append_action(&mut tx, audit, at).await?;
                    tx.commit().await.map_err(db("committing a session"))?;
                    Ok(())
                }

                async fn session(
                    &self,
                    id_sha256: &[u8; 32],
                    now: Timestamp,
                ) -> Result<Option<Session>, StoreError> {
                    sqlx::query_as::<_, SessionRow>(shared::SESSION)
                        .bind(id_sha256.as_slice())
                        .bind(micros(now))
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db("reading a session"))?
                        .map(SessionRow::session)
                        .transpose()
                }

                async fn end_session(
                    &self,
                    id_sha256: &[u8; 32],
                    audit: &AuditRecord,
                    at: Timestamp,
                ) -> Result<(), StoreError> {
                    shared::check_audit(audit)?;
                    let mut tx = self.begin().await?;
                    // A session already gone (expired, or ended in another tab) still signs out.
                    sqlx::query(shared::END_SESSION)
                        .bind(id_sha256.as_slice())
                        .execute(&mut *tx)
                        .await
                        .map_err(db("ending a session"))?;
                    $append_action(&mut tx, audit, at).await?;
                    tx.commit().await.map_err(db("committing a sign-out"))?;
                    Ok(())
                }

                async fn expire_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
                    let done = sqlx::query(shared::EXPIRE_SESSIONS)
                        .bind(micros(now))
                        .execute(&self.pool)
                        .await
                        .map_err(db("expiring sessions"))?;
                    Ok(done.rows_affected())
                }

                async fn login_failed(
                    &self,
                    login: &str,
                    lockout: Lockout,
                    audit: &AuditRecord,
                    at: Timestamp,
                ) -> Result<LoginFailures, StoreError> {
                    shared::check_typed_login(login)?;
                    shared::check_lockout(lockout)?;
                    shared::check_audit(audit)?;
                    let mut tx = self.begin().await?;
                    let before: Option<(i64, i64, Option<i64>)> =
                        sqlx::query_as(shared::LOGIN_FAILURES)
                            .bind(login)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db("reading failed sign-ins"))?;
                    let (failures, locked_until) = shared::next_failures(before, at, lockout);
                    sqlx::query(shared::PUT_LOGIN_FAILURES)
                        .bind(login)
                        .bind(failures)
                        .bind(micros(at))
                        .bind(locked_until)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("recording a failed sign-in"))?;
                    $append_action(&mut tx, audit, at).await?;
                    tx.commit().await.map_err(db("committing a failed sign-in"))?;
                    Ok(LoginFailures {
                        failures: u32::try_from(failures).unwrap_or(u32::MAX),
                        locked_until: locked_until
                            .filter(|until| *until > micros(at))
                            .map(from_micros),
                    })
                }

                async fn locked_until(
                    &self,
                    login: &str,
                    now: Timestamp,
                ) -> Result<Option<Timestamp>, StoreError> {
                    if login.contains('\0') {
                        return Ok(None);
                    }
                    let until: Option<Option<i64>> = sqlx::query_scalar(shared::LOCKED_UNTIL)
                        .bind(login)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db("reading failed sign-ins"))?;
                    Ok(until.flatten().filter(|until| *until > micros(now)).map(from_micros))
                }

                async fn settings(&self) -> Result<Vec<Setting>, StoreError> {
                    let rows: Vec<(String, String)> = sqlx::query_as(shared::SETTINGS)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("reading settings"))?;
                    Ok(rows.into_iter().map(|(key, value)| Setting { key, value }).collect())
                }

                async fn set_setting(
                    &self,
                    setting: &Setting,
                    audit: &AuditRecord,
                    at: Timestamp,
                ) -> Result<(), StoreError> {
                    shared::check_setting(setting)?;
                    shared::check_audit(audit)?;
                    let mut tx = self.begin().await?;
                    sqlx::query(shared::PUT_SETTING)
                        .bind(&setting.key)
                        .bind(&setting.value)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("writing a setting"))?;
                    $append_action(&mut tx, audit, at).await?;
                    tx.commit().await.map_err(db("committing a setting"))?;
                    Ok(())
                }
            }
        }
    };
}

pub(crate) use impl_directory;
