-- Indexes for the cross-user aggregates of the admin tools (issue 17).

-- Ratings of given items, index-only ("how others rated the titles someone
-- requested", analytics.requester_influence): only rated rows (about 1 in 20
-- on the large demo server), so a sync that writes unrated user_stats rows
-- does not maintain it. Without it the function sorted every rating.
CREATE INDEX user_stats_item_rating_idx ON user_stats (media_item_id) INCLUDE (user_id, rating)
    WHERE rating IS NOT NULL;
