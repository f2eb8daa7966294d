# bench/stats.awk — the benches' order statistics, for awk -f stats.awk -f ...
# Samples go in v[KEY, 1..cnt[KEY]]; med(KEY) is the median, pc(KEY, P) the
# nearest-rank percentile (P in 0..1), n_of(KEY) the number of samples.
function sorted(k,   m, i, j, t) {
	m = cnt[k]
	for (i = 1; i <= m; i++) s[i] = v[k, i]
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
	return m
}
function med(k,   m) { m = sorted(k); if (!m) return 0; return m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2 }
function pc(k, p,   m, i) { m = sorted(k); if (!m) return 0; i = int(p * m); if (i < p * m) i++; if (i < 1) i = 1; return s[i] }
function n_of(k) { return cnt[k] + 0 }
function add(k, x) { v[k, ++cnt[k]] = x }
