"""SQL for the foundation's triggers, kept as data so the migration stays readable.

Areas are measured on the spheroid (geography, metres), never in degrees. CGCS2000 and WGS84 differ by
centimetres, so stored EPSG:4490 geometry is read as 4326 for the geography cast.
"""

GRID_TOPOLOGY = r"""
CREATE OR REPLACE FUNCTION grids_enforce_topology() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    overlap_tol double precision;
    contain_tol double precision;
    community geometry;
    outside_m2 double precision;
    clash record;
    clashes text := '';
BEGIN
    IF NEW.status <> 'active' THEN
        RETURN NEW;
    END IF;
    -- Serialise activations so two concurrent transactions cannot both slip in overlapping grids.
    PERFORM pg_advisory_xact_lock(hashtext('gridgov.grid_topology'));

    SELECT value INTO overlap_tol FROM registry_config WHERE key = 'overlap_tolerance_m2';
    SELECT value INTO contain_tol FROM registry_config WHERE key = 'containment_tolerance_m2';
    overlap_tol := COALESCE(overlap_tol, 1.0);
    contain_tol := COALESCE(contain_tol, 1.0);

    SELECT geom INTO community FROM areas
     WHERE code = NEW.community_code AND level = 'community' AND valid_to IS NULL;
    IF community IS NULL THEN
        RAISE EXCEPTION '网格 % 所属社区/村 % 不存在或已撤销', NEW.code, NEW.community_code
            USING ERRCODE = 'GG003';
    END IF;

    outside_m2 := ST_Area(ST_SetSRID(ST_Difference(NEW.geom, community), 4326)::geography);
    IF outside_m2 > contain_tol THEN
        RAISE EXCEPTION '网格 % 超出所属社区/村 % 边界 % 平方米（容差 % 平方米）',
            NEW.code, NEW.community_code, round(outside_m2::numeric, 1), contain_tol
            USING ERRCODE = 'GG002';
    END IF;

    FOR clash IN
        SELECT g.code,
               ST_Area(ST_SetSRID(ST_Intersection(g.geom, NEW.geom), 4326)::geography) AS m2
          FROM grids g
         WHERE g.status = 'active' AND g.id <> NEW.id AND g.code <> NEW.code
           AND g.geom && NEW.geom AND ST_Intersects(g.geom, NEW.geom)
    LOOP
        IF clash.m2 > overlap_tol THEN
            clashes := clashes || format('%s（%s 平方米）', clash.code, round(clash.m2::numeric, 1)) || '、';
        END IF;
    END LOOP;
    IF clashes <> '' THEN
        RAISE EXCEPTION '网格 % 与现有网格重叠：%（容差 % 平方米）',
            NEW.code, rtrim(clashes, '、'), overlap_tol
            USING ERRCODE = 'GG001';
    END IF;
    RETURN NEW;
END;
$$;
"""

REVISION_BUMP = r"""
CREATE OR REPLACE FUNCTION bump_registry_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registry_revision SET revision = revision + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;
"""

_REVISION_TABLES = ("grids", "areas", "staff", "staff_assignments", "buildings")

UPGRADE = [
    GRID_TOPOLOGY,
    "CREATE TRIGGER grids_topology BEFORE INSERT OR UPDATE ON grids "
    "FOR EACH ROW EXECUTE FUNCTION grids_enforce_topology()",
    REVISION_BUMP,
    *(
        f"CREATE TRIGGER {t}_bump_revision AFTER INSERT OR UPDATE OR DELETE ON {t} "
        "FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_revision()"
        for t in _REVISION_TABLES
    ),
]

DOWNGRADE = [
    *(f"DROP TRIGGER IF EXISTS {t}_bump_revision ON {t}" for t in _REVISION_TABLES),
    "DROP TRIGGER IF EXISTS grids_topology ON grids",
    "DROP FUNCTION IF EXISTS bump_registry_revision()",
    "DROP FUNCTION IF EXISTS grids_enforce_topology()",
]
