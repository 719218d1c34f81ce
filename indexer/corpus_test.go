package indexer

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/livematch/livematch/engine"
)

// A deterministic generator of bilingual products for benchmarks and the
// analysis-chain comparison. Titles and descriptions are assembled from word
// lists so that the benchmark queries (茶, 猕猴桃, kiwi, 农业, navel orange,
// walnut) hit realistic fractions of the catalogue.

type genItem struct{ zh, en, category string }

var genItems = []genItem{
	{"脐橙", "navel oranges", "fresh_fruit"}, {"猕猴桃", "kiwifruit", "fresh_fruit"},
	{"奇异果", "kiwi", "fresh_fruit"}, {"苹果", "apples", "fresh_fruit"}, {"水蜜桃", "peaches", "fresh_fruit"},
	{"荔枝", "lychees", "fresh_fruit"}, {"芒果", "mangoes", "fresh_fruit"}, {"蓝莓", "blueberries", "fresh_fruit"},
	{"白茶", "white tea", "tea"}, {"绿茶", "green tea", "tea"}, {"乌龙茶", "oolong tea", "tea"},
	{"红茶", "black tea", "tea"}, {"普洱茶", "pu'er tea", "tea"}, {"茶油", "camellia oil", "grain_oil"},
	{"大米", "rice", "grain_oil"}, {"小米", "millet", "grain_oil"}, {"菜籽油", "rapeseed oil", "grain_oil"},
	{"核桃", "walnuts", "dried_goods"}, {"红枣", "red dates", "dried_goods"}, {"香菇", "shiitake mushrooms", "dried_goods"},
	{"木耳", "wood ear fungus", "dried_goods"}, {"枸杞", "goji berries", "health_food"}, {"蜂蜜", "honey", "health_food"},
	{"大闸蟹", "hairy crabs", "seafood"}, {"小龙虾", "crayfish", "seafood"}, {"牛肉干", "beef jerky", "snacks"},
	{"土鸡蛋", "free-range eggs", "meat_poultry"}, {"腊肉", "cured pork", "meat_poultry"},
	{"牦牛奶粉", "yak milk powder", "dairy"}, {"白酒", "baijiu", "liquor"}, {"米酒", "rice wine", "liquor"},
	{"面膜", "face masks", "beauty"}, {"T恤", "T-shirts", "apparel"}, {"竹编篮", "bamboo baskets", "handicrafts"},
	{"陶瓷茶具", "ceramic tea set", "kitchenware"}, {"蓝牙耳机", "Bluetooth earphones", "electronics"},
}

var genOrigins = []struct{ zh, en, province, region string }{
	{"赣南", "Gannan", "360000", "360732"}, {"周至", "Zhouzhi", "610000", "610124"},
	{"福鼎", "Fuding", "350000", "350982"}, {"西湖", "West Lake", "330000", "330106"},
	{"云南", "Yunnan", "530000", "530100"}, {"新疆", "Xinjiang", "650000", "650100"},
	{"阳澄湖", "Yangcheng Lake", "320000", "320500"}, {"宁夏", "Ningxia", "640000", "640100"},
	{"东北", "Northeast", "230000", "230100"}, {"贵州", "Guizhou", "520000", "520100"},
	{"甘肃", "Gansu", "620000", "620100"}, {"四川", "Sichuan", "510000", "510100"},
}

var genQualifiers = []struct{ zh, en string }{
	{"有机", "organic"}, {"新鲜", "fresh"}, {"特级", "premium"}, {"礼盒装", "gift box"},
	{"农家", "farmhouse"}, {"高山", "high-mountain"}, {"手工", "handmade"}, {"原产地直发", "shipped from origin"},
	{"精选", "selected"}, {"助农", "farmer-support"},
}

var genSentencesZh = []string{
	"产地直发，坏果包赔。", "合作社统一种植，统一采摘。", "项目获得中国农业发展银行扶贫贷款支持。",
	"全程冷链，新鲜到家。", "适合直播间秒杀与团购。", "通过绿色食品认证，品质可追溯。",
	"当地农户手工挑选，个大饱满。", "支持一件代发与定制包装。", "欢迎主播寄样品鉴。",
	"依托县域电商服务中心发货。", "口感清甜，老少皆宜。", "采用传统工艺制作。",
}

var genSentencesEn = []string{
	"Shipped direct from the farm; damaged items refunded.", "Grown and picked by the village cooperative.",
	"Cold chain all the way to your door.", "Ideal for live-stream flash sales.", "Traceable quality with green food certification.",
	"Hand-selected by local farmers.", "Drop shipping and custom packaging available.", "Samples available for hosts.",
	"Made the traditional way.", "Sweet, fresh and loved by all ages.",
}

// genProducts returns n deterministic products with ids g000000, g000001, ….
func genProducts(n int) []*engine.Product {
	r := rand.New(rand.NewPCG(20261212, 42))
	certs := engine.CertTypes()
	ps := make([]*engine.Product, n)
	for i := range ps {
		it := genItems[r.IntN(len(genItems))]
		or := genOrigins[r.IntN(len(genOrigins))]
		q := genQualifiers[r.IntN(len(genQualifiers))]
		var dz, de strings.Builder
		for range 2 + r.IntN(4) {
			dz.WriteString(genSentencesZh[r.IntN(len(genSentencesZh))])
		}
		for range 2 + r.IntN(3) {
			de.WriteString(genSentencesEn[r.IntN(len(genSentencesEn))])
			de.WriteByte(' ')
		}
		p := &engine.Product{
			ID:            fmt.Sprintf("g%06d", i),
			OrgID:         fmt.Sprintf("org%03d", r.IntN(300)),
			SKU:           fmt.Sprintf("SKU-%d", i),
			TitleZh:       fmt.Sprintf("%s%s%s %d斤装", or.zh, q.zh, it.zh, 1+r.IntN(10)),
			TitleEn:       fmt.Sprintf("%s %s %s, %d kg", q.en, or.en, it.en, 1+r.IntN(5)),
			DescriptionZh: dz.String(),
			DescriptionEn: strings.TrimSpace(de.String()),
			Category:      it.category,
			Tags:          []string{q.zh, q.en},
			PriceCNY:      float64(5+r.IntN(500)) + 0.9,
			Stock:         int64(r.IntN(5000)),
			ShipFrom:      or.region,
			ProvinceCode:  or.province,
			PovertyRelief: r.IntN(3) == 0,
			ReviewStatus:  engine.ReviewApproved,
			OriginCountry: "CN",
		}
		if r.IntN(4) == 0 {
			p.LivePriceCNY = p.PriceCNY * 0.8
		}
		for range r.IntN(3) {
			c := engine.Certification{Type: certs[r.IntN(len(certs))].Code}
			if r.IntN(2) == 0 {
				c.ExpiresAt = time.Date(2025+r.IntN(4), time.Month(1+r.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
			}
			p.Certifications = append(p.Certifications, c)
		}
		ps[i] = p
	}
	return ps
}
