package server

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"credprops/access"
	"credprops/gen"
	"credprops/store"
)

// handlers implements the generated strict server interface.
type handlers struct {
	store *store.Store
	log   *slog.Logger

	// ping runs the readiness check's query. Tests replace it.
	ping func(context.Context) error
	// unready records that the last readiness check failed, so that only
	// changes are logged, not every probe.
	unready atomic.Bool

	openAPIYAML []byte
	openAPIJSON []byte
}

var _ gen.StrictServerInterface = (*handlers)(nil)

func (h *handlers) GetGenericCredentialProperties(ctx context.Context, req gen.GetGenericCredentialPropertiesRequestObject) (gen.GetGenericCredentialPropertiesResponseObject, error) {
	ref := store.CredentialRef{ClientExtID: req.ClientExtId, UserExtID: req.UserExtId, ExtID: req.ExtId}

	mode, denied := authorize(ctx, access.ViewRights, ref)
	if denied != nil {
		return gen.GetGenericCredentialProperties403JSONResponse{ForbiddenJSONResponse: gen.ForbiddenJSONResponse(*denied)}, nil
	}

	props, err := h.store.Properties(ctx, ref, mode)

	var notFound *store.NotFoundError
	switch {
	case errors.As(err, &notFound):
		return gen.GetGenericCredentialProperties404JSONResponse{NotFoundJSONResponse: gen.NotFoundJSONResponse(notFoundBody(notFound))}, nil
	case err != nil:
		return nil, err
	}
	return gen.GetGenericCredentialProperties200JSONResponse(props), nil
}

func (h *handlers) UpdateGenericCredentialProperties(ctx context.Context, req gen.UpdateGenericCredentialPropertiesRequestObject) (gen.UpdateGenericCredentialPropertiesResponseObject, error) {
	ref := store.CredentialRef{ClientExtID: req.ClientExtId, UserExtID: req.UserExtId, ExtID: req.ExtId}

	mode, denied := authorize(ctx, access.UpdateRights, ref)
	if denied != nil {
		return gen.UpdateGenericCredentialProperties403JSONResponse{ForbiddenJSONResponse: gen.ForbiddenJSONResponse(*denied)}, nil
	}

	props, err := h.store.UpdateProperties(ctx, ref, *req.Body, mode)

	var notFound *store.NotFoundError
	var forbidden *store.AccessError
	var invalid *store.ValidationError
	switch {
	case errors.As(err, &notFound):
		return gen.UpdateGenericCredentialProperties404JSONResponse{NotFoundJSONResponse: gen.NotFoundJSONResponse(notFoundBody(notFound))}, nil
	case errors.Is(err, store.ErrArchived):
		return gen.UpdateGenericCredentialProperties422JSONResponse{UnprocessableEntityJSONResponse: gen.UnprocessableEntityJSONResponse(archivedBody(req.ExtId))}, nil
	case errors.As(err, &forbidden):
		return gen.UpdateGenericCredentialProperties403JSONResponse{ForbiddenJSONResponse: gen.ForbiddenJSONResponse(accessBody(forbidden))}, nil
	case errors.As(err, &invalid):
		return gen.UpdateGenericCredentialProperties422JSONResponse{UnprocessableEntityJSONResponse: gen.UnprocessableEntityJSONResponse(validationBody(invalid))}, nil
	case err != nil:
		return nil, err
	}
	return gen.UpdateGenericCredentialProperties200JSONResponse(props), nil
}
