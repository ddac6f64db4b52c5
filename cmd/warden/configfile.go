package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/warden-iam/warden/internal/config"
)

// defaultConfigFile is the connections file read when neither --config nor
// WARDEN_CONFIG names one.
const defaultConfigFile = "warden.yaml"

// configPath returns the connections file to read and whether the user
// named it (--config or WARDEN_CONFIG); an unnamed default that does not
// exist is returned as "".
func (a *app) configPath() (path string, named bool) {
	if a.configFlag != "" {
		return a.configFlag, true
	}
	if env := os.Getenv("WARDEN_CONFIG"); env != "" {
		return env, true
	}
	if _, err := os.Stat(defaultConfigFile); err == nil {
		return defaultConfigFile, false
	}
	return "", false
}

// loadConfig reads and validates the connections file; it returns nil, nil
// when there is none to read.
func (a *app) loadConfig() (*config.File, string, error) {
	path, named := a.configPath()
	if path == "" {
		return nil, "", nil
	}
	f, err := config.Load(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && named {
			return nil, path, usageError(fmt.Sprintf("no connections file at %s", path),
				"check --config (or WARDEN_CONFIG), or create one with `warden config example > warden.yaml`")
		}
		var verr *config.ValidationError
		if errors.As(err, &verr) {
			return nil, path, usageError(err.Error(), "correct the file, then check it with `warden config validate`")
		}
		return nil, path, usageError(fmt.Sprintf("read %s: %v", path, err), "check the file exists and is readable")
	}
	return f, path, nil
}

// soleConnection makes the connection of a connections file with just one
// the one commands read and write when --connection is not given, so
// `show`, `access`, `diff` and the rest answer for what `sync` stored. A
// file that cannot be read changes nothing here; the commands that need it
// report it.
func (a *app) soleConnection() {
	if a.connectionSet {
		return
	}
	if f, _, err := a.loadConfig(); err == nil && f != nil && len(f.Connections) == 1 {
		a.connection = f.Connections[0].ID
	}
}
