-- Ratings given per user (lifetime: user_stats carries no rating time).

CREATE OR REPLACE FUNCTION analytics.user_rating_totals()
RETURNS TABLE (user_id uuid, username text, display_name text, role text, last_login_at timestamptz,
               ratings_given bigint, avg_rating_given double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT u.id, u.username, u.display_name, u.role, u.last_login_at, r.ratings, r.average
    FROM (SELECT us.user_id, count(*) AS ratings, avg(us.rating)::double precision AS average
          FROM user_stats us WHERE us.rating IS NOT NULL GROUP BY us.user_id) r
    JOIN users u ON u.id = r.user_id
    WHERE analytics.scope_mode() = 'admin'
$$;

-- Functions are executable by PUBLIC when created; only the engine may call this one.
REVOKE EXECUTE ON FUNCTION analytics.user_rating_totals() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.user_rating_totals() TO marquee_engine;
