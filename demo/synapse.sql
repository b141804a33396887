-- A small Synapse-shaped database as a managed host exports it: owned by an
-- opaque per-customer role, with grants to the host's admin role, and chat
-- rows whose text looks like the SQL a sed recipe would rewrite.
CREATE ROLE "3f9a2c71" NOLOGIN;
CREATE ROLE rdsadmin NOLOGIN;
CREATE DATABASE demo_src OWNER "3f9a2c71";
\connect demo_src
SET ROLE "3f9a2c71";
CREATE TABLE public.rooms (room_id text PRIMARY KEY, creator text, is_public boolean);
CREATE TABLE public.events (stream_ordering bigserial PRIMARY KEY, room_id text REFERENCES public.rooms,
                            sender text, content jsonb);
CREATE TABLE public.schema_version (version integer NOT NULL, upgraded boolean NOT NULL);
CREATE INDEX events_room ON public.events (room_id);
RESET ROLE;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO rdsadmin;
INSERT INTO public.rooms VALUES ('!ops:example.org', '@admin:example.org', false),
                                ('!chat:example.org', '@alice:example.org', true);
INSERT INTO public.events (room_id, sender, content) VALUES
  ('!ops:example.org', '@admin:example.org', '{"body": "ALTER TABLE x OWNER TO rdsadmin;"}'),
  ('!ops:example.org', '@alice:example.org', '{"body": "GRANT ALL ON TABLE t TO \"3f9a2c71\";"}'),
  ('!chat:example.org', '@bob:example.org', '{"body": "moving off managed hosting today"}');
INSERT INTO public.events (room_id, sender, content)
  SELECT '!chat:example.org', '@bot:example.org', jsonb_build_object('body', 'message ' || g)
  FROM generate_series(1, 5000) g;
INSERT INTO public.schema_version VALUES (73, true);
