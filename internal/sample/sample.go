// Package sample generates realistic, valid batch and roster files: a Kazakh
// business delegation to a forum in Pakistan. For demos, tests and benchmarks.
package sample

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/visad/visad/domain"
)

var (
	maleGiven = []string{
		"Nurlan",
		"Yerlan",
		"Askar",
		"Daniyar",
		"Timur",
		"Arman",
		"Serik",
		"Bauyrzhan",
		"Marat",
		"Azamat",
		"Ruslan",
		"Yerzhan",
	}
	femaleGiven = []string{
		"Aigerim",
		"Dana",
		"Saule",
		"Aliya",
		"Gulnara",
		"Madina",
		"Zhanar",
		"Assel",
		"Dinara",
		"Kamila",
		"Ainur",
		"Laura",
	}
	surnames = []string{
		"Abenov",
		"Seitkali",
		"Zhaksybekov",
		"Nurpeisov",
		"Tokayev",
		"Kassymov",
		"Ospanov",
		"Bekturov",
		"Sarsenbayev",
		"Iskakov",
		"Dzhumabayev",
		"Mukhametov",
	}
	birthplaces = []string{"Almaty", "Astana", "Shymkent", "Karaganda", "Aktobe", "Pavlodar", "Atyrau", "Kostanay"}
	companies   = []string{
		"Steppe Grain LLP",
		"KazAgro Export JSC",
		"Caspian Logistics LLP",
		"Altyn Textiles LLP",
		"Tengri Pharma JSC",
		"Irtysh Metals LLP",
		"Baikonur Tech LLP",
		"Saryarka Foods LLP",
	}
	positions = []string{
		"Export Director",
		"Chief Executive Officer",
		"Commercial Manager",
		"Head of Procurement",
		"Founder",
		"Regional Sales Lead",
	}
	hostCities = []string{"Karachi", "Lahore", "Islamabad", "Faisalabad"}
	hosts      = []string{
		"Indus Textiles Ltd",
		"Punjab Rice Mills",
		"Karachi Chamber Logistics",
		"Faisalabad Knitwear Co",
		"Islamabad Software House",
		"Sialkot Surgical Exports",
	}
)

// Options shape a generated batch.
type Options struct {
	Rows    int
	Product domain.Product // default business_2y
	Seed    uint64         // same seed, same file
	Today   time.Time      // dates are relative to it; default now
}

// Person is one generated member of the delegation.
type Person struct {
	Row          domain.BatchRow
	Member       domain.Member
	MembershipNo string
}

// Generate returns n valid rows (and the matching roster members).
func Generate(o Options) []Person {
	if o.Product == "" {
		o.Product = domain.ProductBusiness2Y
	}
	if o.Today.IsZero() {
		o.Today = time.Now().UTC()
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	people := make([]Person, 0, o.Rows)
	for i := 0; i < o.Rows; i++ {
		sex := "M"
		given := maleGiven[r.IntN(len(maleGiven))]
		if r.IntN(2) == 0 {
			sex, given = "F", femaleGiven[r.IntN(len(femaleGiven))]
		}
		surname := surnames[r.IntN(len(surnames))]
		if sex == "F" {
			surname += "a" // Kazakh surnames take the feminine ending
		}
		dob := o.Today.AddDate(-25-r.IntN(35), -r.IntN(12), -r.IntN(28))
		issue := o.Today.AddDate(-r.IntN(5), -r.IntN(12), -1-r.IntN(28))
		expiry := issue.AddDate(10, 0, -1)
		arrival := o.Today.AddDate(0, 0, 7+r.IntN(60))
		// Nine characters, so the number fits the MRZ; the seed picks the series.
		passport := fmt.Sprintf("%c%02d%06d", 'A'+byte(o.Seed%26), (o.Seed/26)%100, i+1)
		membership := fmt.Sprintf("KZ-%05d", i+1)
		l1, l2 := domain.BuildTD3(domain.MRZ{
			DocumentCode: "P", IssuingState: "KAZ", Surname: surname, GivenNames: given, DocumentNumber: passport,
			Nationality: "KAZ", BirthDate: dob.Format("060102"), Sex: sex, ExpiryDate: expiry.Format("060102"),
		})
		city := hostCities[r.IntN(len(hostCities))]
		values := map[string]string{
			"product": string(o.Product), "surname": surname, "given_names": given, "sex": sex,
			"date_of_birth": dob.Format(time.DateOnly), "place_of_birth": birthplaces[r.IntN(len(birthplaces))],
			"nationality": "KAZ", "email": fmt.Sprintf("delegate%05d@example.kz", i+1),
			"phone":           fmt.Sprintf("+7 701 %03d %04d", r.IntN(1000), r.IntN(10000)),
			"passport_number": passport, "passport_issuing_country": "KAZ",
			"passport_issue_date": issue.Format(time.DateOnly), "passport_expiry_date": expiry.Format(time.DateOnly),
			"passport_mrz_line1": l1, "passport_mrz_line2": l2,
			"company": companies[r.IntN(len(companies))], "position": positions[r.IntN(len(positions))],
			"purpose": "business_forum", "intended_arrival": arrival.Format(time.DateOnly),
			"host_company": hosts[r.IntN(len(hosts))], "host_city": city,
			"host_address": fmt.Sprintf("Pak-Kazakh Business Forum, Expo Centre, %s", city), "host_phone": "+92 21 555 0100",
			"membership_number": membership,
		}
		people = append(people, Person{
			Row: domain.BatchRow{Number: i + 1, Values: values},
			Member: domain.Member{MembershipNumber: membership, Surname: surname, GivenNames: given,
				DateOfBirth: values["date_of_birth"], Nationality: "KAZ", PassportNumber: passport,
				Status: "active", ValidUntil: o.Today.AddDate(2, 0, 0).Format(time.DateOnly)},
			MembershipNo: membership,
		})
	}
	return people
}

// WriteBatchCSV writes the rows as a batch CSV with every column.
func WriteBatchCSV(w io.Writer, people []Person) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(domain.BatchColumns); err != nil {
		return err
	}
	for _, p := range people {
		rec := make([]string, len(domain.BatchColumns))
		for i, col := range domain.BatchColumns {
			rec[i] = p.Row.Values[col]
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteRosterCSV writes the matching roster.
func WriteRosterCSV(w io.Writer, people []Person) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(domain.RosterColumns); err != nil {
		return err
	}
	for _, p := range people {
		m := p.Member
		if err := cw.Write([]string{m.MembershipNumber, m.Surname, m.GivenNames, m.DateOfBirth, m.Nationality,
			m.PassportNumber, m.Status, m.ValidUntil}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
