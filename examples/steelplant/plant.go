package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// plant is the defect-prediction service the reference server protects. Its
// data lives in memory; it stands in for the host's own domain.
type plant struct {
	now func() time.Time

	mu          sync.Mutex // guards predictions, alerts, deployments
	predictions []prediction
	alerts      []alert
	deployments []deployment
}

type prediction struct {
	ID                string    `json:"id"`
	Line              string    `json:"line"`
	SteelGrade        string    `json:"steel_grade"`
	CastingSpeed      float64   `json:"casting_speed_m_min"`
	MouldTemperature  float64   `json:"mould_temperature_c"`
	DefectProbability float64   `json:"defect_probability"`
	PredictedDefect   string    `json:"predicted_defect"`
	CreatedAt         time.Time `json:"created_at"`
	CreatedBy         string    `json:"created_by"`
}

type alert struct {
	ID             string     `json:"id"`
	Line           string     `json:"line"`
	Severity       string     `json:"severity"`
	Message        string     `json:"message"`
	RaisedAt       time.Time  `json:"raised_at"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
}

type deployment struct {
	Model      string    `json:"model"`
	Version    string    `json:"version"`
	DeployedBy string    `json:"deployed_by"`
	DeployedAt time.Time `json:"deployed_at"`
}

func newPlant(now func() time.Time) *plant {
	t := now()
	return &plant{now: now, alerts: []alert{
		{ID: "alt-1001", Line: "caster-2", Severity: "high", Message: "mould level oscillation above 6 mm", RaisedAt: t.Add(-42 * time.Minute)},
		{ID: "alt-1002", Line: "hot-strip-1", Severity: "medium", Message: "predicted edge-crack risk 0.41 on coil 88213", RaisedAt: t.Add(-17 * time.Minute)},
	}}
}

func subjectOf(r *http.Request) string {
	if p, ok := auth.FromContext(r.Context()); ok {
		if p.Username != "" {
			return p.Username
		}
		return p.Subject
	}
	return "anonymous"
}

// createPrediction scores one cast with a small logistic model.
func (pl *plant) createPrediction(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Line             string  `json:"line"`
		SteelGrade       string  `json:"steel_grade"`
		CastingSpeed     float64 `json:"casting_speed_m_min"`
		MouldTemperature float64 `json:"mould_temperature_c"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, r, auth.NewError(auth.CodeInvalidRequest, "body must be {line, steel_grade, casting_speed_m_min, mould_temperature_c}"))
		return
	}
	if in.Line == "" || in.CastingSpeed <= 0 || in.CastingSpeed > 10 || in.MouldTemperature < 800 || in.MouldTemperature > 1700 {
		writeError(w, r, auth.NewError(auth.CodeInvalidRequest, "line is required; casting_speed_m_min must be in (0, 10]; mould_temperature_c in [800, 1700]"))
		return
	}
	z := -6 + 1.1*in.CastingSpeed + 0.004*(in.MouldTemperature-1500)*10
	prob := math.Round(1/(1+math.Exp(-z))*1000) / 1000
	defect := "none"
	switch {
	case prob >= 0.5:
		defect = "longitudinal_crack"
	case prob >= 0.25:
		defect = "surface_inclusion"
	}
	pl.mu.Lock()
	p := prediction{
		ID: fmt.Sprintf("pred-%05d", len(pl.predictions)+1), Line: in.Line, SteelGrade: in.SteelGrade,
		CastingSpeed: in.CastingSpeed, MouldTemperature: in.MouldTemperature,
		DefectProbability: prob, PredictedDefect: defect, CreatedAt: pl.now().UTC(), CreatedBy: subjectOf(r),
	}
	pl.predictions = append(pl.predictions, p)
	pl.mu.Unlock()
	writeJSON(w, http.StatusCreated, p)
}

func (pl *plant) listPredictions(w http.ResponseWriter, r *http.Request) {
	pl.mu.Lock()
	list := slices.Clone(pl.predictions)
	pl.mu.Unlock()
	if list == nil {
		list = []prediction{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"predictions": list})
}

func (pl *plant) listAlerts(w http.ResponseWriter, r *http.Request) {
	pl.mu.Lock()
	list := slices.Clone(pl.alerts)
	pl.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"alerts": list})
}

func (pl *plant) acknowledgeAlert(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for i := range pl.alerts {
		if pl.alerts[i].ID == id {
			t := pl.now().UTC()
			pl.alerts[i].AcknowledgedBy, pl.alerts[i].AcknowledgedAt = subjectOf(r), &t
			writeJSON(w, http.StatusOK, pl.alerts[i])
			return
		}
	}
	writeError(w, r, auth.NewError(auth.CodeNotFound, "no such alert"))
}

func (pl *plant) reports(w http.ResponseWriter, r *http.Request) {
	pl.mu.Lock()
	n, high := len(pl.predictions), 0
	for _, p := range pl.predictions {
		if p.DefectProbability >= 0.5 {
			high++
		}
	}
	pl.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"reports": []map[string]any{{
		"id": "shift-" + pl.now().UTC().Format("2006-01-02"), "title": "Shift quality summary",
		"predictions": n, "high_risk_casts": high,
	}}})
}

func (pl *plant) dashboard(w http.ResponseWriter, r *http.Request) {
	pl.mu.Lock()
	open := 0
	for _, a := range pl.alerts {
		if a.AcknowledgedAt == nil {
			open++
		}
	}
	n := len(pl.predictions)
	pl.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"lines": []string{"caster-1", "caster-2", "hot-strip-1"},
		"open_alerts": open, "predictions_today": n, "viewer": subjectOf(r)})
}

func (pl *plant) deployModel(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Model   string `json:"model"`
		Version string `json:"version"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.Model == "" || in.Version == "" || strings.ContainsAny(in.Model+in.Version, " /\\") {
		writeError(w, r, auth.NewError(auth.CodeInvalidRequest, "body must be {model, version} without spaces or slashes"))
		return
	}
	d := deployment{Model: in.Model, Version: in.Version, DeployedBy: subjectOf(r), DeployedAt: pl.now().UTC()}
	pl.mu.Lock()
	pl.deployments = append(pl.deployments, d)
	pl.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "deploying", "deployment": d})
}
