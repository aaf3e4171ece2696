package nn

import (
	"os"
	"strconv"
)

func init() {
	for name, p := range map[string]*int{"WMINP": &winogradMinP, "MAXCOL": &maxColFloats, "BANDCOL": &bandColFloats, "PWMINP": &pointwiseMinP, "WMAXF": &winogradMaxFloats} {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
			*p = v
		}
	}
}
