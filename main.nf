#!/usr/bin/env nextflow
/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    splamflow: score splice junctions with Splam and remove spurious spliced alignments
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    nextflow run . -profile docker --input samplesheet.csv --fasta genome.fa --outdir results
    nextflow run . -profile gpu,docker --input samplesheet.csv --fasta genome.fa --gtf genes.gtf --outdir results
    Usage, parameters and outputs: docs/nextflow.md
----------------------------------------------------------------------------------------
*/

include { SPLAMFLOW               } from './workflows/splamflow'
include { PIPELINE_INITIALISATION } from './subworkflows/local/utils_splamflow_pipeline'
include { PIPELINE_COMPLETION     } from './subworkflows/local/utils_splamflow_pipeline'

workflow {

    main:
    PIPELINE_INITIALISATION(
        params.input,
        params.fasta,
        params.gtf,
        params.model
    )

    SPLAMFLOW(
        PIPELINE_INITIALISATION.out.inputs,
        PIPELINE_INITIALISATION.out.fasta,
        PIPELINE_INITIALISATION.out.model,
        params.score_chunk_size
    )

    PIPELINE_COMPLETION(
        params.outdir
    )
}
