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
//     else, for the index's text relevance t ≥ 0 (BM25 over titles and tags,
//     scaled by the share of keywords matched), t/m where m =
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
//
// # Host matching
//
// A host request (PrepareHostRequest) is matched against hosts (PrepareHost)
// that the index retrieved, each with the text relevance of its bio to the
// request's notes and categories: MatchHosts gates each one, scores those
// that pass and ranks them. The same request, candidates and
// HostMatchParams give the same result.
//
// Languages are ISO 639-1 codes (lower case), levels rank native 4 > fluent
// 3 > business 2 > conversational 1. A request date is a civil date; it may
// not lie before today in China time when the request is prepared. Host
// time zones are IANA names that the caller validates and resolves (the
// engine does no I/O): HostMatchParams.UTCOffset gives a zone's offset from
// UTC in hours, taken at 12:00 UTC on the request date (or at Now without a
// date), and MatchHosts asks once per distinct zone.
//
// Gates, checked in HostGateOrder; the first that fails names the exclusion:
//
//   - language_below_level: for some required language the host does not
//     speak it, or speaks it below min_level (exactly the minimum passes).
//   - not_certified: certification is required and the host has none, or
//     it expires before the end of the request date in China time (it must
//     be in force throughout that day; a zero expires_at never expires);
//     without a date it must be in force at Now.
//   - unavailable: a date is set and is not among available_dates.
//   - over_budget: budget_cny_per_hour > 0 and hourly_rate_cny exceeds it.
//
// Factors. Each has a value in [0,1] (clamped, NaN to 0), a weight and
// reasons in Chinese and English that quote the numbers behind the value.
// "Neutral" is 0.5.
//
//   - language: for each required language with minimum rank m and the
//     host's rank r, 0 when r < m, 1 when m = 4, else 0.6 + 0.4·(r−m)/(4−m)
//     (the minimum earns 0.6, native 1); the value is the mean over the
//     required languages, plus 0.1 for each extra language the host speaks
//     (at a known level) that was not required and is useful: zh, en or an
//     official language of a target market (MY ms en zh; SG en zh ms ta;
//     TH th; VN vi; ID id; PH en tl; JP ja; KR ko; IN hi en; AE, SA ar; RU ru;
//     DE de; FR fr; ES, MX es; IT it; NL nl; BR pt; US, GB, AU, NZ, CA en;
//     CN, TW zh; HK zh en). Without required languages, 0.5 + 0.1·extras.
//     Capped at 1.
//   - market: the share of the target markets the host has sold in,
//     |markets ∩ target_markets| / |target_markets|; neutral without
//     target markets.
//   - category: |categories ∩ request categories| / |request categories|;
//     neutral when the request names none.
//   - audience: on a log scale, 0.7·min(1, log10(1+followers)/7) +
//     0.3·min(1, log10(1+avg_viewers)/5): ten million followers and a
//     hundred thousand average viewers earn full marks; negative counts
//     count as 0.
//   - conversion: min(1, conversion_rate/0.05): 5% conversion earns 1.
//   - rating: rating/5; a rating of 0 means unrated and is neutral.
//   - bio: with HostMatchParams.BioMax m > 0 (the best bio relevance among
//     the request's candidates), min(1, bio/m) for the candidate's bio
//     relevance (negative or NaN count as 0, +Inf as 1); without m (no
//     notes), neutral.
//   - timezone: how well the host's zone suits prime time in the target
//     markets. Each market has a main UTC offset (CN, HK, TW, MY, SG, PH 8;
//     TH, VN, ID 7; JP, KR 9; AU 10; NZ 12; IN 5.5; AE 4; SA, RU 3; GB 0;
//     DE, FR, ES, IT, NL 1; US, CA −5; MX −6; BR −3; other markets are
//     skipped). With d the circular distance in hours between the host's
//     offset and the market's (at most 12), the value is the mean over the
//     markets of max(0, 1 − d/8): the same offset earns 1, eight or more
//     hours off earns 0. Neutral when no target market is in the table, or
//     when the host's zone is empty or unknown (no UTCOffset, or it answers
//     false or a non-finite offset).
//
// Score. As for products: with w_f the weights (Weights.Of on the host
// factor names; missing 1, 0 switches a factor off, negative, NaN and
// infinite weights count as 0), Score = Σ w_f·v_f / Σ w_f and each
// Contribution = w_f·v_f / Σ w_f, weights divided by the largest first;
// Value, Contribution and Score are rounded to 4 decimals, so the
// contributions sum to the score within 8·0.00005 < 0.001. Every factor is
// listed, with weight 0 when switched off.
//
// Ranking. MatchHosts ranks by (rounded) score, highest first, ties by host
// id, and returns the top Limit (default 20, at most 100). Only the returned
// items are explained; while scanning only the best Limit are kept (a
// bounded heap) and, once it is full, a host whose score could not reach it
// even with full marks for language and time zone is dropped before those
// are computed; factors with weight 0 are not computed while scanning.
// Nothing is allocated per candidate (only a cache entry per distinct time
// zone). ScoreHost, called alone, gives exactly the figures and reasons that
// MatchHosts gives for the same candidate.
//
// # Reservations and samples
//
// A reservation is an MCN's hold on units of a product for a stream
// (PrepareReservation validates it and makes it held; the hold lasts
// DefaultHold unless hold_until says otherwise, at most MaxHold).
// ApplyReservation moves it on; who may act, and from where:
//
//	held ──confirm (supplier)──▶ confirmed ──ship (supplier)──▶ shipped ──result (mcn)──▶ completed
//	 │ │                             │
//	 │ └──cancel (mcn, supplier)──▶ cancelled ◀──cancel (mcn, supplier)
//	 │
//	 └──expire (system, once expires_at has passed)──▶ expired
//
// Any other action answers, in this order: KindForbidden when the party may
// never take it (MayReservation), KindConflict naming the current state
// when the state does not allow it, KindInvalid naming the action's bad
// fields (units_sold ≤ units, units_returned ≤ units_sold, rating 1..5). A
// hold whose expires_at has passed is expired as of then (StatusAt) even
// before the sweep records it: it can no longer be confirmed or cancelled.
//
// Stock. Held and confirmed reservations book their units against the
// product's stock; available = max(0, stock − booked) (Available). The
// invariant is booked ≤ stock at every moment. StockLedger holds the
// arithmetic: Book refuses units that do not fit with KindConflict naming
// units and a *Shortage cause carrying what is available; SetStock refuses
// a stock below the booked units with KindConflict naming stock; Release
// (cancelled, expired) and Ship (the units leave booking and stock alike)
// follow a reservation's transitions as LedgerEffect says. The store
// applies these steps atomically, one ledger entry each.
//
// A sample request (PrepareSampleRequest, only for a product with
// sample_available, else KindConflict) goes requested → accepted
// (supplier) → shipped (supplier, tracking_no required) → received (mcn),
// or requested → declined (supplier, reason required); ApplySample checks
// party, state and input in the same order as ApplyReservation.
package engine
