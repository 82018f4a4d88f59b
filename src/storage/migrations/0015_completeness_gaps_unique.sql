-- One open gap per range start of a series: healers of two replicas (an old leader still finishing its pass while
-- the new one starts) insert the same gap at once; the second insert now does nothing (ON CONFLICT DO NOTHING)
-- instead of leaving a duplicate row whose tries and state diverge. Duplicates already stored are removed first (not
-- marked filled: their slots may still be missing); the oldest row of each key stays.
DELETE FROM completeness_gaps g
WHERE g.state <> 'filled' AND EXISTS (
  SELECT 1 FROM completeness_gaps o
  WHERE o.state <> 'filled' AND o.source = g.source AND o.metric = g.metric AND o.zone = g.zone
    AND o.gap_start = g.gap_start AND o.id < g.id);
CREATE UNIQUE INDEX IF NOT EXISTS completeness_gaps_open_start ON completeness_gaps (source, metric, zone, gap_start)
  WHERE state <> 'filled';
