// Package engine holds livematch's domain: organisations, products, regions
// and the fixed vocabularies, the validation rules that guard them, and the
// product-matching core: demand profiles, gates, factor scoring,
// explanations and fair re-ranking.
//
// # Design principles
//
//   - Pure: no I/O, no database, HTTP or index imports, no struct tags. Every
//     adapter (store, indexer, api) depends on engine, never the reverse.
//   - Errors are data: one *Error type with a closed Kind enum, an Op, a
//     client-safe message, the offending fields and a wrapped cause. The api
//     package maps each Kind to exactly one HTTP status.
//   - Derived facts are derived here and never taken from input: a product's
//     province comes from its ship-from region and its poverty-relief status
//     from its owning org's region, resolved through a RegionBook.
//   - Collaborators (region tables, clocks) are passed in; no package state
//     changes after start.
//
// # Matching
//
// A demand profile (PrepareProfile) is matched against candidates that the
// index retrieved: Match gates each one, scores those that pass, ranks them
// and re-ranks the top for fair exposure. All figures are reproducible: the
// same profile, candidates and MatchParams give the same result.
//
// "As of" is the profile's stream date when it has one, else MatchParams.Now
// (the clock). Certificates count when valid as of that date (an expired
// certificate counts for nothing, neither in gates nor in scores), and the
// season is the month of that date in China Standard Time (UTC+8).
//
// Gates, checked in GateOrder; the first that fails names the exclusion:
//
//   - not_approved: the product's review status is not approved.
//   - supplier_not_admitted: the supplier is unknown (nil), not approved
//     (pending or suspended), or is not the product's owner.
//   - wrong_category: the profile names categories and the product's is not one.
//   - price_out_of_band: the effective price (live price when set, else list
//     price) lies outside [price_min, price_max], either end optional and
//     inclusive.
//   - commission_below_floor: commission_rate < min_commission_rate.
//   - out_of_stock: stock < max(min_stock, 1).
//   - missing_certification: a required certificate is not held valid as of.
//   - out_of_season: available_months is not empty and lacks the as-of month.
//   - lead_time: a stream date is set and now + lead_time_days lies after it.
//
// Factors. Each has a value in [0,1] (NaN or out-of-range arithmetic is
// clamped to [0,1], NaN to 0), a weight and readable reasons in Chinese and
// English that quote the numbers behind the value.
//
//   - text: without keywords 1 ("no keywords: every product qualifies");
//     else, for the index's relevance t ≥ 0 (BM25), t/m where m =
//     MatchParams.TextMax is the best relevance among the profile's
//     candidates that pass the index's gates (so the best keyword match
//     scores 1 and the others a share of it; the api computes m the same way
//     for a profile's matches and for a product's buyers). Without m,
//     t/(t+h) with h = MatchParams.TextHalf (default DefaultTextHalf = 2).
//     Negative or NaN t count as 0, +Inf as 1.
//   - price: 0.7·band + 0.3·min(1, discount/0.3). band: with both price_min
//     lo and price_max hi and hi > lo, 1 − 0.5·(price−lo)/(hi−lo) (cheaper
//     within the band is better, the dearest end still earns 0.5); with lo =
//     hi, 1; with only hi > 0, 1 − 0.5·price/hi; otherwise (only lo, or no
//     band) 1.
//     discount = 1 − live/list when a live price below the list price is set,
//     else 0: a 30% live-stream discount earns the full discount part.
//   - commission: with no floor (min_commission_rate f = 0), min(1, rate/0.4);
//     with 0 < f < 0.4, (rate−f)/(0.4−f) clamped to [0.1, 1] for rates that
//     meet the floor (meeting the floor is worth something; 40% is the top of
//     what suppliers usually offer); with f ≥ 0.4, 1 for rates that meet it;
//     0 below the floor.
//   - stock: with expected_units e > 0, min(1, stock/e); else 1 when
//     stock > 0, 0 otherwise.
//   - poverty_relief: 1 when the supplier is a poverty-relief supplier
//     (Org.PovertyRelief, derived from its region, never from product input),
//     else 0. The reason names the supplier's region ("来自国家级脱贫县兴国县").
//   - certification: over the distinct certificate types valid as of, with P
//     the preferred certificates held, n the preferred ones named, S the
//     三品一标 marks held: with n > 0, 0.7·P/n + 0.3·min(1, S/2); with none
//     named, 0.7·min(1, S/2) + 0.3·[any valid certificate].
//   - seasonality: with available_months empty (or all twelve), 0.8: all year,
//     no peak. Else the as-of month lies in a run of consecutive available
//     months (December runs on into January) of length L at position d
//     (0-based): L ≤ 2 gives 0.8; else with centre c = (L−1)/2 the value is
//     1 − 0.4·|d−c|/c, so the first and last month of the run give 0.6, the
//     centre 1 (an even run's two middle months fall short of 1: 0.87 in a
//     four-month run). Produce is best and plentiful mid-season. 0 when out
//     of season (gated anyway).
//   - logistics: with no audience regions or no Geo, 0.7 (neutral); else the
//     mean over audience regions with a known distance of max(0, 1−km/3000),
//     km being the distance between the provinces' capitals of ship-from and
//     audience region (0.7 when no distance is known). Then a perishable
//     product (shelf_life_days 1..15) without cold chain has its value
//     halved; a cold-chain product's reason says so.
//   - grade: A 1, B 0.6, C 0.3; an ungraded supplier counts as B (the default
//     grade); an unknown grade or supplier 0.
//   - lead_time: with a stream date, slack = days from now to the stream date
//     − lead_time_days; min(1, slack/14) but at least 0.1 when slack ≥ 0 (two
//     weeks of slack is comfortable; any slack at all keeps the product
//     viable), 0 when slack < 0 (gated anyway). Without a stream date,
//     max(0, 1 − lead_time_days/30).
//
// Score. With w_f the factor weights (Weights.Of: missing 1, 0 switches a
// factor off; negative, NaN and infinite weights count as 0 when PrepareProfile
// has not rejected them) and W = Σ w_f: Score = Σ w_f·v_f / W and each factor's
// Contribution = w_f·v_f / W, so the contributions sum to the score and the
// score lies in [0,1] (0 when every weight is 0). Weights are divided by the
// largest before summing so that huge weights cannot overflow. Value,
// Contribution and Score are each rounded to 4 decimals after computing, so
// the rounded contributions sum to the rounded score within 11·0.00005 <
// 0.001. Every factor is listed, with weight 0 when it is switched off.
//
// Ranking. Match ranks the scored candidates by (rounded) score, highest
// first, ties by product id, then applies FairTopK with the profile's
// poverty_relief_min_share (protected: poverty-relief suppliers) and returns
// the top Limit (default 20, at most 100). Only the returned items are
// explained: the others are scored without formatting text, and while
// scanning only the best Limit overall and the best Limit protected
// candidates are kept (a bounded heap each), which is all that FairTopK can
// pick from. Once the heaps are full, a candidate whose score could not reach
// them even with full marks for certificates (the costliest factor to read)
// is dropped before they are read. Logistics distances are cached per
// ship-from code for the duration of one Match. Score, called alone, gives
// exactly the figures and reasons that Match gives for the same candidate.
package engine
