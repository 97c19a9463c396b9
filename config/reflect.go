package config

import (
	"reflect"

	"github.com/otai-dev/otai/registry"
)

func reflectNew(spec *registry.Spec) reflect.Value {
	return reflect.New(spec.ParamsType).Elem()
}

func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }
