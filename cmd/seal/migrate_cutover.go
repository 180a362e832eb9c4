package main

import (
	"fmt"

	"github.com/sealkit/sealkit/pkg/migrate"
)

// runCutOver hands over, for every sealkit SealedSecret in the files, the
// Secret that the Bitnami SealedSecret of the same name controls in the
// cluster (see migrate.HandOver).
func (o *migrateOptions) runCutOver() error {
	files, err := loadManifestFiles(o.paths)
	if err != nil {
		return err
	}
	if countSealed(files) == 0 {
		return withHint(noSealedSecrets(o.paths), "migrate the files first (seal migrate PATH), then hand their Secrets over")
	}
	c, err := o.kube.connect()
	if err != nil {
		return err
	}
	ctx, cancel := kubeContext()
	defer cancel()
	handed, failed := 0, 0
	for _, f := range files {
		for _, d := range f.sealed {
			ns := d.obj.Namespace
			if ns == "" {
				ns = o.kube.defaultNS
			}
			ref := ns + "/" + d.obj.Name
			outcome, err := migrate.HandOver(ctx, c, ns, d.obj.Name, migrate.HandOverOptions{})
			switch {
			case unreachable(err):
				return notRun(kubeError(err))
			case err != nil:
				failed++
				fmt.Fprintf(o.ErrOut, "seal: error: %s: sealedsecret %s: %s\n", f.path, ref, oneLine(admissionError(err).Error()))
			case outcome == migrate.NoBitnami:
				fmt.Fprintf(o.Out, "%s: no Bitnami SealedSecret in the cluster, nothing to hand over\n", ref)
			case outcome == migrate.NoSecret:
				handed++
				fmt.Fprintf(o.Out, "%s: no Secret yet; Bitnami SealedSecret deleted, seal-controller will create the Secret\n", ref)
			default:
				handed++
				fmt.Fprintf(o.Out, "%s: handed over: Secret kept and marked for seal-controller, Bitnami SealedSecret deleted (orphan)\n", ref)
			}
		}
	}
	fmt.Fprintf(o.Out, "handed over %d Secrets; %d failed\n", handed, failed)
	if failed > 0 {
		return fmt.Errorf("%d Secrets were not handed over (see above); no Secret was deleted", failed)
	}
	return nil
}
